"""Reading batch files: header of identity kinds or one identity per line; problems by line number."""

from tutela.requests.batch import BatchLine, BatchProblem, read_lines
from tutela.requests.model import Identity


def test_lines_without_header_use_the_given_kind():
    items = list(read_lines("# erase these\n+4930901820\n\n+4930901821, trailing\n", kind="phone"))
    assert items == [BatchLine(2, [Identity("phone", "+4930901820")]),
                     BatchLine(4, [Identity("phone", "+4930901821")])]


def test_a_header_names_several_identities_per_subject():
    items = list(read_lines("email,phone\na@x.example,+4930901820\n,+4930901821\n,\nb@x.example,1,2\n"))
    assert items[0] == BatchLine(2, [Identity("email", "a@x.example"), Identity("phone", "+4930901820")])
    assert items[1] == BatchLine(3, [Identity("phone", "+4930901821")])
    assert isinstance(items[2], BatchProblem) and items[2].line == 5


def test_a_header_only_file_has_no_lines():
    assert list(read_lines("email\n")) == []
