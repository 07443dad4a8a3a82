import io
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.cross_decomposition import PLSCanonical
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgcrdp import ModalityTransformer
from skgcrdp.baselines import CrossDecompositionEmbedder, RandomProjectionEmbedder
from skgcrdp.benchmark import (
    METHODS,
    BenchmarkData,
    Method,
    compare_data_sets,
    default_episodes,
    format_markdown,
    format_text,
    load_benchmark_data,
    run_benchmark,
    summarize,
)
from skgcrdp.benchmark import __main__ as cli
from skgcrdp.benchmark._memory import PeakMemory
from skgcrdp.benchmark._methods import EpisodeContext
from skgcrdp.benchmark._progress import Progress
from skgcrdp.benchmark._report import PLOT_HINT
from skgcrdp.benchmark._typed_queries import class_queries, load_typed_queries


def test_small_real_run_gcrdp_beats_pls_chance_and_plain_mlp():
    # The benchmark's own protocol on Wikipedia, shortened: 2 episodes,
    # all pairs, 10 extractor epochs. Methods fitted side by side in one run.
    results = run_benchmark(
        shots=[None],
        n_episodes=2,
        methods=["GCRDP", "PLS", "SupCon MLP", "random projection"],
        gcrdp_params={"extract__max_epochs": 10, "align__max_epochs": 3},
        progress=False,
    )
    assert results["error"].isna().all()
    scores = results.pivot(index="episode", columns="method", values="mean")
    for baseline in ("SupCon MLP", "random projection"):
        margin = scores["GCRDP"] - scores[baseline]
        assert (margin > 0).all(), (baseline, scores)
        assert margin.mean() > 0.01, (baseline, scores)
    # PLS, the strongest baseline here, only by a small margin (0.3008 vs 0.2934).
    assert scores["GCRDP"].mean() > scores["PLS"].mean(), scores
    summary = summarize(results)
    assert summary.loc[("all", "GCRDP"), "vs_best_baseline"] > 1.0
    # Wikipedia's text features are LDA topics: no sentence model types a query.
    assert results["typed_query_map"].isna().all()


def test_episodes_are_shared_by_methods_and_values_of_k():
    results = run_benchmark(
        shots=[None, 3], n_episodes=2, methods=["PLS", "random projection"], progress=False
    )
    assert len(results) == 2 * 2 * 2
    # Same unseen classes whatever K: the test folds have the same size.
    test_sizes = results.pivot_table(index="episode", columns="K", values="n_test_pairs")
    np.testing.assert_array_equal(test_sizes["all"], test_sizes["3"])
    assert (results.loc[results["K"] == "3", "n_train_pairs"] == 15).all()
    # Seeded: the same call gives the same numbers.
    again = run_benchmark(
        shots=[None, 3], n_episodes=2, methods=["PLS", "random projection"], progress=False
    )
    np.testing.assert_allclose(results["mean"], again["mean"])


def _frame(rows):
    return pd.DataFrame(
        [dict(zip(["K", "episode", "method", "kind", "mean"], r)) for r in rows]
    ).assign(image_to_text=lambda d: d["mean"], text_to_image=lambda d: d["mean"],
             fit_seconds=1.0, peak_memory_mib=2.0, error=None)


def test_summary_ratio_is_to_the_best_baseline_of_the_same_k():
    results = _frame([
        ("all", 0, "GCRDP", "GCRDP", 0.30), ("all", 1, "GCRDP", "GCRDP", 0.34),
        ("all", 0, "PLS", "baseline", 0.28), ("all", 1, "PLS", "baseline", 0.28),
        ("all", 0, "rand", "chance", 0.20), ("all", 1, "rand", "chance", 0.20),
        ("5", 0, "GCRDP", "GCRDP", 0.20), ("5", 0, "PLS", "baseline", 0.25),
        ("5", 0, "rand", "chance", 0.10),
    ])
    summary = summarize(results)
    assert summary.loc[("all", "GCRDP"), "mean"] == pytest.approx(0.32)
    assert summary.loc[("all", "GCRDP"), "std"] == pytest.approx(0.02)
    assert summary.loc[("all", "GCRDP"), "vs_best_baseline"] == pytest.approx(0.32 / 0.28)
    assert summary.loc[("5", "GCRDP"), "vs_best_baseline"] == pytest.approx(0.8)
    assert summary.loc[("5", "PLS"), "vs_best_baseline"] == pytest.approx(1.0)
    table = format_markdown(summary)
    assert "**0.3200**" in table and "**0.2500**" in table


def test_a_failing_method_is_reported_not_fatal(monkeypatch):
    def broken(context):
        raise RuntimeError("boom")

    monkeypatch.setitem(METHODS, "broken", Method("broken", "baseline", "fails", broken))
    results = run_benchmark(shots=[5], n_episodes=1, methods=["broken", "PLS"], progress=False)
    failed = results.set_index("method").loc["broken"]
    assert "RuntimeError: boom" in failed["error"] and np.isnan(failed["mean"])
    assert results.set_index("method").loc["PLS", "mean"] > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"methods": ["GCRDP", "nope"]}, "Unknown method"),
        ({"methods": []}, "No method"),
        ({"shots": [0]}, "positive int"),
        ({"shots": []}, "at least one K"),
        ({"n_episodes": 0}, "n_episodes"),
        ({"random_state": None}, "random_state"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_benchmark(**{"shots": [5], "n_episodes": 1, "progress": False, **kwargs})


@pytest.fixture
def small_data(wikipedia):
    X, y = wikipedia
    keep = np.flatnonzero(np.isin(y, [1, 2, 3, 4]))[::4]
    return X[keep], y[keep]


def test_npz_and_csv_files_load_like_the_arrays(tmp_path, small_data):
    X, y = small_data
    np.savez(tmp_path / "d.npz", X=X, y=y, n_image_features=128)
    frame = pd.DataFrame(X, columns=[f"img__{i}" for i in range(128)] + [f"txt__{i}" for i in range(10)])
    frame.insert(0, "topic", y)
    frame.to_csv(tmp_path / "d.csv", index=False)
    for data in (load_benchmark_data(tmp_path / "d.npz"),
                 load_benchmark_data(tmp_path / "d.csv", label_column="topic")):
        np.testing.assert_allclose(data.X, X)
        np.testing.assert_array_equal(data.y, y)
        assert (data.n_image_features, data.n_text_features) == (128, 10)


def test_bad_data_files_are_named(tmp_path, small_data):
    X, y = small_data
    with pytest.raises(FileNotFoundError, match="wikipedia"):
        load_benchmark_data(tmp_path / "missing.npz")
    np.savez(tmp_path / "nosplit.npz", X=X, y=y)
    with pytest.raises(ValueError, match="n_image_features"):
        load_benchmark_data(tmp_path / "nosplit.npz")
    np.savez(tmp_path / "wide.npz", X=X, y=y, n_image_features=138)
    with pytest.raises(ValueError, match="outside the feature range"):
        load_benchmark_data(tmp_path / "wide.npz")
    pd.DataFrame({"a": [1.0], "txt__0": [1.0], "label": [0]}).to_csv(tmp_path / "cols.csv", index=False)
    with pytest.raises(ValueError, match="img__"):
        load_benchmark_data(tmp_path / "cols.csv")
    with pytest.raises(ValueError, match="no label column"):
        load_benchmark_data(tmp_path / "cols.csv", label_column="class")
    (tmp_path / "d.txt").write_text("x")
    with pytest.raises(ValueError, match="neither"):
        load_benchmark_data(tmp_path / "d.txt")


def test_command_line_writes_table_csv_markdown_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    summaries = cli.main(["--data", "wikipedia", "--episodes", "2", "--shots", "all", "5",
                          "--methods", "PLS", "random projection", "--output", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert "PLS" in printed and "vs best baseline" in printed
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 2 * 2 * 2 and set(results["K"].astype(str)) == {"all", "5"}
    markdown = (out / "results.md").read_text()
    assert "| K | method |" in markdown and "results.png" in markdown
    assert "--episodes 2" in markdown
    assert (out / "results.png").stat().st_size > 1000
    assert list(summaries) == ["wikipedia"]
    assert list(summaries["wikipedia"].index.get_level_values("K").unique()) == ["all", "5"]


def test_without_matplotlib_the_run_ends_with_a_hint(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    cli.main(["--data", "wikipedia", "--episodes", "1", "--shots", "5", "--methods", "PLS",
              "--output", str(tmp_path), "--quiet"])
    assert PLOT_HINT in capsys.readouterr().out
    assert not (tmp_path / "results.png").exists()
    assert (tmp_path / "results.md").exists()


@pytest.mark.parametrize("argv, message", [
    (["--shots", "none"], "'all' or a positive int"),
    (["--shots", "0"], "'all' or a positive int"),
    (["--param", "novalue"], "KEY=VALUE"),
    (["--episodes", "0"], "'auto' or a positive int"),
    (["--jobs", "two"], "--jobs takes 'auto' or a positive int"),
    (["--data", "wikipedia", "nope"], "No data set 'nope'"),
    (["--methods", "PLS", "PSL"], "Unknown method(s) ['PSL']"),
    (["--image-pca", "0"], "--image-pca takes 'none' or a positive int"),
    (["--data", "wikipedia", "--text-pca", "11"], "--text-pca 11 is more components"),
])
def test_command_line_rejects_bad_values(argv, message, capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(argv)
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_command_line_runs_both_embedded_sets_with_a_combined_line_per_method(tmp_path, capsys):
    out = tmp_path / "out"
    summaries = cli.main(["--shots", "5", "--methods", "PLS", "random projection", "--episodes",
                          "1", "--output", str(out), "--quiet", "--no-plot"])
    assert list(summaries) == ["wikipedia", "openclipart"]
    results = pd.read_csv(out / "results.csv")
    assert list(results["data"].unique()) == ["wikipedia", "openclipart"]
    # Open Clip Art: 1280-d EfficientNet image and 384-d MiniLM text features.
    assert results.groupby("data")["n_train_pairs"].first()["openclipart"] == 5 * 27
    printed = capsys.readouterr().out
    assert "Ratio to the best baseline, per data set and K" in printed
    markdown = (out / "results.md").read_text()
    assert "## Open Clip Art" in markdown and "| method | wikipedia K=5 | openclipart K=5 |" in markdown
    chance = summaries["openclipart"].loc[("5", "random projection"), "vs_best_baseline"]
    assert chance < 0.8  # deep features: PLS is far above chance
    typed = results.groupby("data")["typed_query_map"]
    assert typed.count()["wikipedia"] == 0 and typed.count()["openclipart"] == 2
    assert "typed-query mAP" in printed and "| typed-query mAP |" in markdown


def test_default_episodes_are_fewer_for_the_larger_set():
    args = cli.build_parser().parse_args([])
    assert args.episodes == "auto" and args.data == "all" and args.methods == "default"
    assert [default_episodes(load_benchmark_data(name)) for name in ("wikipedia", "openclipart")] == [10, 5]
    assert args.shots == [None, 5, 1] and args.jobs == -1 and not args.full
    help_text = cli.build_parser().format_help()
    assert "None" not in help_text and "(default: auto)" in help_text and "-1" not in help_text
    assert "(default: all 5 1)" in help_text and "(default: all)" in help_text
    assert "(default: default)" in help_text and "'chosen by CV'" in help_text
    assert args.typed_queries is None and "--no-typed-queries" in help_text
    assert "LDA" in " ".join(help_text.split())


def test_comparison_across_data_sets_averages_the_ratios():
    first = summarize(_frame([("all", 0, "GCRDP", "GCRDP", 0.30), ("all", 0, "PLS", "baseline", 0.20)]))
    second = summarize(_frame([("all", 0, "GCRDP", "GCRDP", 0.20), ("all", 0, "PLS", "baseline", 0.25)]))
    combined = compare_data_sets({"a": first, "b": second})
    assert list(combined.columns) == ["a K=all", "b K=all", "mean ratio"]
    assert combined.loc["GCRDP", "mean ratio"] == pytest.approx((1.5 + 0.8) / 2)
    assert combined.loc["PLS", "mean ratio"] == pytest.approx(1.0)
    assert "GCRDP" in format_text(combined) and "| method |" in format_markdown(combined)


def test_small_real_run_on_open_clip_art_puts_gcrdp_above_pls_and_every_method_above_chance():
    results = run_benchmark(
        "openclipart", shots=[None], n_episodes=1, progress=False,
        methods=["GCRDP", "PLS", "CCA", "random projection"],
        gcrdp_params={"extract__max_epochs": 10, "align__max_epochs": 3},
    )
    assert results["error"].isna().all()  # CCA on 1280-d images works through its PCA
    scores = results.set_index("method")["mean"]
    for method in ("GCRDP", "PLS", "CCA"):
        assert scores[method] > 1.5 * scores["random projection"], scores
    assert scores["GCRDP"] > scores["PLS"] > scores["CCA"], scores   # 0.2039 > 0.1978 > ...
    # Typed queries: each unseen class's name, in three phrasings, against the
    # unseen pictures. A random ranking's AP is about the share of the gallery
    # the class holds: averaged over the 26 unseen classes, 1/26.
    typed = results.set_index("method")["typed_query_map"]
    chance = 1 / 26
    for method in ("GCRDP", "PLS", "CCA"):
        assert typed[method] > 1.5 * chance, typed
    assert typed["GCRDP"] > 2 * chance and typed["GCRDP"] > typed["random projection"], typed


def test_class_names_are_typed_in_three_phrasings():
    assert class_queries("food/fruit") == ["fruit", "a drawing of fruit", "clip art of food: fruit"]
    assert class_queries("signs_and_symbols/flags/europe")[2] == (
        "clip art of signs and symbols: flags: europe")
    queries = load_typed_queries(("food/fruit", "animals/birds"))
    assert queries.features.shape == (6, 384) and list(queries.labels) == [0, 0, 0, 1, 1, 1]
    # The sentence model puts a phrasing nearer its own class's other phrasings.
    Z = queries.features
    assert Z[1] @ Z[0] > Z[1] @ Z[3] and Z[4] @ Z[3] > Z[4] @ Z[0]


def test_a_method_that_embeds_paired_data_only_gets_no_typed_score(monkeypatch):
    def paired_only(context):
        # A StandardScaler over both modalities cannot take one alone.
        return make_pipeline(StandardScaler(), RandomProjectionEmbedder(
            context.n_image_features, n_components=8, random_state=0))

    monkeypatch.setitem(METHODS, "paired only", Method("paired only", "baseline", "", paired_only))
    results = run_benchmark("openclipart", shots=[3], n_episodes=1, progress=False,
                            methods=["paired only", "PLS"]).set_index("method")
    assert results["error"].isna().all() and results.loc["paired only", "mean"] > 0
    assert np.isnan(results.loc["paired only", "typed_query_map"])
    assert results.loc["PLS", "typed_query_map"] > 0
    off = run_benchmark("openclipart", shots=[3], n_episodes=1, progress=False, methods=["PLS"],
                        typed_queries=False)
    assert off["typed_query_map"].isna().all()
    assert off["mean"].iloc[0] == results.loc["PLS", "mean"]  # the other columns do not move


def test_typed_queries_without_the_sentence_encoder(monkeypatch, tmp_path, capsys):
    from skgcrdp.benchmark import _protocol

    monkeypatch.setattr(_protocol, "encoders_installed", lambda: False)
    monkeypatch.setattr(cli, "encoders_installed", lambda: False)
    with pytest.raises(ImportError, match=r"skgcrdp\[encoders\]"):
        run_benchmark("openclipart", shots=[3], n_episodes=1, progress=False, methods=["PLS"],
                      typed_queries=True)
    with pytest.raises(ValueError, match="typed_queries must be"):
        run_benchmark("openclipart", shots=[3], n_episodes=1, progress=False, typed_queries="yes")
    argv = ["--data", "openclipart", "--shots", "3", "--episodes", "1", "--methods", "PLS",
            "--output", str(tmp_path), "--quiet", "--no-plot"]
    with pytest.raises(SystemExit):
        cli.main([*argv, "--typed-queries"])
    assert "typed queries need the sentence encoder" in capsys.readouterr().err
    cli.main(argv)  # by default the run goes on without the column's numbers
    assert "(no typed queries: " in capsys.readouterr().err
    assert pd.read_csv(tmp_path / "results.csv")["typed_query_map"].isna().all()


def test_small_real_run_on_open_clip_art_relative_profiles_lift_gcrdp_and_pls_alike():
    # The union's weight is chosen by inner class-disjoint CV inside the seen
    # classes; on deep features the profiles earn a say for both methods.
    results = run_benchmark(
        "openclipart", shots=[None], n_episodes=1, progress=False,
        methods=["GCRDP", "GCRDP + profiles", "PLS", "PLS + profiles"],
        gcrdp_params={"extract__max_epochs": 10, "align__max_epochs": 3},
    )
    assert results["error"].isna().all()
    scores = results.set_index("method")["mean"]
    assert scores["GCRDP + profiles"] > scores["GCRDP"] + 0.005, scores
    assert scores["PLS + profiles"] > scores["PLS"] + 0.005, scores


def test_preprocessing_goes_in_front_of_every_method_with_the_reduced_widths():
    pca = ModalityTransformer(image=PCA(16))
    results = run_benchmark(
        "openclipart", shots=[None], n_episodes=1, progress=False,
        methods=["GCRDP", "PLS", "random projection"], preprocess=pca,
        gcrdp_params={"extract__max_epochs": 10, "align__max_epochs": 3},
    )
    assert results["error"].isna().all(), results["error"].tolist()
    scores = results.set_index("method")["mean"]
    for method in ("GCRDP", "PLS"):
        assert scores[method] > 1.5 * scores["random projection"], scores
    plain = run_benchmark("openclipart", shots=[None], n_episodes=1, progress=False,
                          methods=["PLS"])
    assert plain["mean"].iloc[0] != scores["PLS"]  # PLS saw the 16 components, not 1280 features
    assert pca.n_image_features is None  # the caller's step is left as it was


def test_command_line_builds_the_pca_step():
    assert cli._preprocess(None, None) is None
    step = cli._preprocess(32, None)
    assert step.image.named_steps["pca"].n_components == 32 and step.text == "passthrough"


def test_param_values_are_parsed():
    assert cli._param("extract__max_epochs=5") == ("extract__max_epochs", 5)
    assert cli._param("align=passthrough") == ("align", "passthrough")


def test_peak_memory_sees_a_large_allocation():
    with PeakMemory() as memory:
        block = np.ones((64, 2**20 // 8)) * 2.0  # 64 MiB, touched
        block.sum()
    del block
    if np.isnan(memory.peak_mib):
        pytest.skip("resident memory is not readable here")
    assert memory.peak_mib > 40


def test_progress_says_the_time_left_from_the_work_done():
    stream = io.StringIO()
    progress = Progress(100, stream=stream)
    progress.start -= 10  # ten seconds ago
    progress.advance(25)
    progress.report("wikipedia K=all: 10 episodes")
    progress.advance(75)
    progress.report("wikipedia K=5: 10 episodes")
    first, last = stream.getvalue().splitlines()
    # A quarter of the work in 10 s: about 30 s left.
    assert first.startswith("wikipedia K=all: 10 episodes in 10 s, 25% of the work; about 30 s left")
    assert last.endswith("100% of the work; done")
    quiet = io.StringIO()
    Progress(1, stream=quiet, enabled=False).report("x")
    assert quiet.getvalue() == ""


def test_run_prints_one_progress_line_per_k(capsys):
    run_benchmark(shots=[None, 3], n_episodes=2, methods=["PLS"])
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Wikipedia (Rasiwasia et al., 2010) K=all: 2 episodes in ")
    assert lines[1].startswith("Wikipedia (Rasiwasia et al., 2010) K=3: 2 episodes in ")
    assert lines[1].endswith("done")


def test_benchmark_data_knows_its_text_width(small_data):
    X, y = small_data
    assert BenchmarkData("d", X, y, 100).n_text_features == 38


def test_each_ablation_switches_its_part_off_and_changes_the_embedding(synthetic):
    # The benchmark's ablation rows must differ from GCRDP exactly where the
    # method says: no mixtures without prototypes, no aligner without alignment.
    X, y, n_image = synthetic
    context = EpisodeContext(n_image_features=n_image, n_text_features=X.shape[1] - n_image,
                             n_pairs=len(y), seed=0, device="cpu",
                             gcrdp_params={"extract__max_epochs": 6, "align__max_epochs": 2})
    fitted = {name: METHODS[name].build(context).fit(X, y)
              for name in ("GCRDP", "GCRDP w/o prototypes", "GCRDP w/o alignment",
                           "contrastive encoders", "SupCon MLP")}
    assert fitted["GCRDP"]["extract"].image_prototypes_.shape[0] > 0
    assert fitted["GCRDP w/o prototypes"]["extract"].image_prototypes_.shape[0] == 0
    assert fitted["GCRDP w/o alignment"]["align"] == "passthrough"
    assert fitted["SupCon MLP"]["extract"].instance_weight == 0.0
    Z = {name: model.transform(X) for name, model in fitted.items()}
    for name in ("GCRDP w/o prototypes", "GCRDP w/o alignment", "contrastive encoders"):
        assert np.abs(Z[name] - Z["GCRDP"]).max() > 1e-3, name
    assert np.abs(Z["SupCon MLP"] - Z["contrastive encoders"]).max() > 1e-3


def test_profile_rows_wrap_their_method_and_a_param_can_switch_profiles_on_everywhere(synthetic):
    X, y, n_image = synthetic
    params = {"extract__max_epochs": 3, "align__max_epochs": 1}
    context = EpisodeContext(n_image_features=n_image, n_text_features=X.shape[1] - n_image,
                             n_pairs=len(y), seed=0, device="cpu", gcrdp_params=params)
    union = METHODS["GCRDP + profiles"].build(context)[0]
    assert union.weights == "auto" and [n for n, _ in union.transformer_list] == ["gcrdp", "profiles"]
    pls = METHODS["PLS + profiles"].build(context)
    assert pls.weights == "auto" and [n for n, _ in pls.transformer_list] == ["baseline", "profiles"]
    supcon = METHODS["SupCon MLP + profiles"].build(context)[0].transformer_list[0][1]
    assert supcon["extract"].instance_weight == 0.0 and supcon["align"] == "passthrough"
    everywhere = EpisodeContext(**{**context.__dict__,
                                   "gcrdp_params": {**params, "relative_profiles": 0.5}})
    ablation = METHODS["GCRDP w/o alignment"].build(everywhere).fit(X, y)
    assert ablation[0].weights_ == {"gcrdp": 1.0, "profiles": 0.5}


FAST = {"extract__max_epochs": 4, "align__max_epochs": 2}


def _separately(names, shots, n_episodes, data="wikipedia"):
    """Each method fitted on its own, outside the benchmark's shared fits and processes."""
    from skgcrdp.benchmark._datasets import load_benchmark_data
    from skgcrdp.benchmark._protocol import plan_episodes
    from skgcrdp.metrics import cross_modal_retrieval_score

    data = load_benchmark_data(data)
    scores = {}
    for k, episode, seen, unseen in plan_episodes(data, shots, n_episodes):
        context = EpisodeContext(n_image_features=data.n_image_features,
                                 n_text_features=data.n_text_features, n_pairs=len(seen),
                                 seed=episode, device="cpu", gcrdp_params=FAST)
        for name in names:
            model = METHODS[name].build(context).fit(data.X[seen], data.y[seen])
            Z = model.transform(data.X[unseen])
            scores[(str(k) if k else "all", episode, name)] = np.mean([
                cross_modal_retrieval_score(Z, data.y[unseen], direction=d)
                for d in ("image_to_text", "text_to_image")])
    return pd.Series(scores)


def test_shared_fits_and_parallel_episodes_give_the_scores_of_separate_fits():
    names = ["GCRDP", "GCRDP w/o alignment", "GCRDP + profiles", "SupCon MLP"]
    results = run_benchmark(shots=[5], n_episodes=2, methods=names, gcrdp_params=FAST,
                            device="cpu", progress=False, n_jobs=2)
    found = results.set_index(["K", "episode", "method"])["mean"]
    expected = _separately(names, [5], 2)
    np.testing.assert_allclose(found.loc[expected.index], expected, atol=1e-6)
    # A row's time counts the fits it shared: the extractor is GCRDP's
    # own, fitted once, yet both rows report its time.
    times = results.set_index(["episode", "method"])["fit_seconds"]
    assert (times.xs("GCRDP w/o alignment", level="method") > 0.01).all()


def test_fit_memo_shares_equal_fits_and_pipeline_prefixes(synthetic):
    from sklearn.pipeline import Pipeline

    from skgcrdp import GMMFeatureExtractor, RelativeDistanceAligner
    from skgcrdp.benchmark._shared_fits import FitMemo

    X, y, n_image = synthetic
    memo = FitMemo()
    extract = GMMFeatureExtractor(n_image, max_epochs=2, device="cpu", random_state=0)
    aligned = memo.fit(Pipeline([("extract", extract),
                                 ("align", RelativeDistanceAligner(max_epochs=1, device="cpu",
                                                                   random_state=0))]), X, y)
    assert memo.saved_seconds == 0
    plain = memo.fit(Pipeline([("extract", extract), ("align", "passthrough")]), X, y)
    assert plain["extract"] is aligned["extract"] and memo.saved_seconds > 0
    np.testing.assert_array_equal(plain.transform(X), aligned["extract"].transform(X))
    # Other data or other parameters: a fit of its own.
    assert memo.fit(extract, X[:-10], y[:-10]) is not aligned["extract"]
    assert memo.fit(extract.set_params(max_epochs=1), X, y) is not aligned["extract"]


def test_chosen_by_cv_picks_among_its_candidates_on_seen_classes_only(synthetic):
    from skgcrdp.benchmark._selection import ChosenByCV
    from skgcrdp.model_selection import ClassDisjointSplit

    X, y, n_image = synthetic
    candidates = {"chance": RandomProjectionEmbedder(n_image, 4, random_state=0),
                  "PLS": CrossDecompositionEmbedder(n_image, PLSCanonical(4))}
    chooser = ChosenByCV(candidates, ClassDisjointSplit(3, test_size=0.5, random_state=0))
    chooser.fit(X, y)
    assert chooser.chosen_ == "PLS"
    assert chooser.cv_results_["mean_test_score"][1] > chooser.cv_results_["mean_test_score"][0]
    np.testing.assert_allclose(chooser.transform(X),
                               clone(candidates["PLS"]).fit(X, y).transform(X))


def test_chosen_by_cv_row_reports_the_choice_and_its_counts():
    results = run_benchmark(shots=[5], n_episodes=2, methods=["chosen by CV"],
                            gcrdp_params=FAST, device="cpu", progress=False)
    assert results["error"].isna().all(), results["error"]
    from skgcrdp.benchmark._methods import SELECTION_CANDIDATES
    assert set(results["chosen"]) <= {*SELECTION_CANDIDATES, "PLS"}
    summary = summarize(results)
    counts = summary.loc[("5", "chosen by CV"), "chosen"]
    assert sum(int(part.rsplit(" ", 1)[1]) for part in counts.split(", ")) == 2


def test_default_run_leaves_the_full_only_methods_out():
    from skgcrdp.benchmark._methods import resolve_methods

    default = [m.name for m in resolve_methods()]
    full = [m.name for m in resolve_methods(full=True)]
    assert "DSCMR" in default and "chosen by CV" not in default
    assert set(full) == set(METHODS) and set(default) < set(full)
