"""The comparison table of `make bench-compare`: medians per side and the change, from the
figures each bench run wrote."""

from kongfu.bench_compare import summary


def run(platform_raw: float, services: float, idle: float, transactions: float | None = None) -> dict:
    figures = {"platform_cpu_s_per_lifecycle_raw": platform_raw, "platform_cpu_s_per_lifecycle": platform_raw - 0.05,
               "per_family_raw": {"services": services, "postgres": 0.1, "kafka": platform_raw - services - 0.1},
               "platform_idle_cores": idle, "lifecycles_per_s": 2.0}
    if transactions is not None:
        figures["database_transactions_per_lifecycle"] = transactions
    return {"run": figures}


def test_medians_and_change_per_figure():
    lines = summary({"base": [run(1.0, 0.7, 0.1), run(0.8, 0.6, 0.1), run(0.9, 0.65, 0.1)],
                     "this": [run(0.6, 0.4, 0.05), run(0.7, 0.5, 0.05), run(0.65, 0.45, 0.05)]})
    platform = next(line for line in lines if line.startswith("platform CPU-s per lifecycle, raw"))
    assert platform.split()[-4:] == ["0.900", "0.650", "-28", "%"]
    idle = next(line for line in lines if line.startswith("platform idle"))
    assert idle.split()[-2:] == ["-50", "%"]
    assert len(lines) == 9  # a header and eight figures


def test_a_figure_older_benches_did_not_write_shows_as_missing_on_their_side():
    lines = summary({"base": [run(1.0, 0.7, 0.1)] * 3, "this": [run(0.9, 0.6, 0.1, t) for t in (380, 390, 385)]})
    transactions = next(line for line in lines if line.startswith("PostgreSQL transactions")).split()
    # base runs, this side's runs, the medians and no change to show
    assert transactions[-7:] == ["-", "380.000", "390.000", "385.000", "-", "385.000", "-"]


def test_the_side_by_side_figures_are_read_past_other_output_and_compared_by_median():
    from kongfu.bench_compare import _line_from, median_change

    class Side:  # a side's process: its output lines
        stdout = iter(["starting ...\n", "ready\n", "{\"services_cpu_s_per_lifecycle\": 0.2}\n"])

    assert _line_from(Side, lambda line: line == "ready") == "ready"
    assert _line_from(Side, lambda line: line.startswith("{")) == '{"services_cpu_s_per_lifecycle": 0.2}'
    assert _line_from(Side, lambda line: line == "ready") is None  # it ended first
    assert median_change([0.30, 0.20, 0.25], [0.20, 0.25, 0.15]) == "-20 %"
