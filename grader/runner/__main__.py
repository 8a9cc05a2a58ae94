"""``python -m grader.runner fork-server FD OPTIONS`` (or ``spawn FD LIMITS``): a runner."""

import json
import sys

from grader.runner.process import fork_server, quiet_std_fds, spawned

quiet_std_fds()
if sys.argv[1] == "fork-server":
    fork_server(int(sys.argv[2]), json.loads(sys.argv[3]) if len(sys.argv) > 3 else {})
else:
    spawned(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "{}")
