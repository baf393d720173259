"""Finding a data subject's rows: the graph of tables from the policy and the reflected foreign keys."""

from tutela.subjects.graph import SUBJECT_ID, SubjectGraph, SubjectNode, read_connection

__all__ = ["SUBJECT_ID", "SubjectGraph", "SubjectNode", "read_connection"]
