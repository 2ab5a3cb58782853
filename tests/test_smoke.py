from conftest import db_rows


def test_init_log_finish_roundtrip(trackio_dir):
    import trackio

    run = trackio.init(project="smoke", name="r1", config={"lr": 0.1})
    trackio.log({"loss": 0.5})
    trackio.finish()
    rows = db_rows(trackio_dir, "smoke", "SELECT run_id, run_name, step, metrics FROM metrics")
    assert rows == [(run.id, "r1", 0, '{"loss":0.5}')]
