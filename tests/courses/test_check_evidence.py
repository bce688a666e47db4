"""How job history becomes evidence: Ganeti's own job records, as RAPI returns them."""

from courses import checks


class History:
    """RAPI's answers for /2/jobs/ID, as the real cluster gave them (see GANETI-NOTES)."""

    def __init__(self, jobs):
        self.jobs = {job["id"]: job for job in jobs}

    def get(self, path, params=None):
        return self.jobs[int(path.rsplit("/", 1)[1])]


def _job(id, op, status="success", result=True, log=()):
    return {
        "id": id,
        "ops": [{"OP_ID": op}],
        "status": status,
        "opresult": [result],
        "end_ts": [1796123902, 0],
        "oplog": [[[n, [1796123902, 0], "message", text] for n, text in enumerate(log, 1)]],
    }


def test_a_successful_migration_in_the_history_passes_and_a_failed_one_does_not():
    failed = _job(7, "OP_INSTANCE_MIGRATE", status="error")
    assert not checks._migration([failed]).passed
    evidence = checks._migration([failed, _job(9, "OP_INSTANCE_FAILOVER")])
    assert evidence.passed and evidence.params["job"] == 9
    assert evidence.params["operation"] == "OP_INSTANCE_FAILOVER"


def test_cluster_verify_follows_its_child_jobs_and_keeps_their_errors():
    parent = _job(2, "OP_CLUSTER_VERIFY", result={"jobs": [[True, 3], [True, 4]]})
    config = _job(3, "OP_CLUSTER_VERIFY_CONFIG")
    group = _job(4, "OP_CLUSTER_VERIFY_GROUP", result=False, log=["  - ERROR: node n1: bad"])
    history = History([parent, config, group])
    evidence = checks._verify(history, [parent, config, group])
    assert not evidence.passed and evidence.params["errors"] == ["ERROR: node n1: bad"]
    group.update(opresult=[True], oplog=[[]])
    assert checks._verify(history, [parent, config, group]).passed


def test_no_verify_in_the_history_says_what_to_run():
    evidence = checks._verify(History([]), [_job(1, "OP_CLUSTER_POST_INIT")])
    assert not evidence.passed and evidence.message == "verify_missing"
