"""Each failed test of a subunit stream with the last lines of its traceback (why it failed).

    python3 failure-reasons.py results.subunit > failures.txt
"""
import re
import sys

import subunit
import testtools


class Collect(testtools.StreamResult):
    def __init__(self):
        super().__init__()
        self.details, self.status_of = {}, {}

    def status(self, test_id=None, test_status=None, file_name=None, file_bytes=None, **_):
        if file_name in ('traceback', 'reason') and file_bytes:
            self.details[test_id] = self.details.get(test_id, b'') + file_bytes
        if test_status:
            self.status_of[test_id] = test_status


r = Collect()
with open(sys.argv[1], 'rb') as f:
    subunit.ByteStreamToStreamResult(f, non_subunit_name='stdout').run(r)
for test, status in sorted(r.status_of.items()):
    if status != 'fail':
        continue
    lines = [l for l in r.details.get(test, b'').decode(errors='replace').splitlines() if l.strip()]
    print(re.sub(r'\[.*$', '', test))
    for line in lines[-3:]:
        print('    ' + line[:400])
