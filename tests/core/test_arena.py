"""The blind arena's core: votes on disk (version, migration, export), the Bradley-Terry leaderboard
against an independent Newton solver and choix's ILSR, bootstrap intervals, position bias, one round
with a tiny model, and votes turned into trl preference pairs."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from playground.core.base.errors import InputError
from playground.core.evaluation.arena import ARENA_VERSION, Vote, VoteStore, make_vote, read_votes
from playground.core.evaluation.arena_fit import PRIOR_TIES, fit_strengths, leaderboard, position_bias


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))
    return tmp_path


def simulated_votes(strengths: dict[str, float], n: int, seed: int = 0, left_bias: float = 0.0,
                    tie_rate: float = 0.1) -> list[Vote]:
    """Votes drawn from a Bradley-Terry model with these log-strengths (and a push towards the left)."""
    rng = random.Random(seed)
    names = list(strengths)
    votes = []
    for i in range(n):
        a, b = rng.sample(names, 2)
        if rng.random() < tie_rate:
            verdict = rng.choice(["tie", "both_bad"])
        else:
            p_a = 1 / (1 + math.exp(-(strengths[a] - strengths[b] + left_bias)))
            verdict = "a" if rng.random() < p_a else "b"
        votes.append(Vote(f"prompt {i}", a, b, f"{a} says {i}", f"{b} says {i}", verdict, id=f"v{i}"))
    return votes


def counts_by_hand(votes, systems, prior: float = PRIOR_TIES) -> np.ndarray:
    """Win counts written out here (not the app's): a win 1, a tie half each way, plus half a win each
    way per pair of systems (the prior's one virtual tie)."""
    n = len(systems)
    c = np.full((n, n), prior / 2) - np.eye(n) * prior / 2
    for v in votes:
        a, b = systems.index(v.a), systems.index(v.b)
        if v.verdict == "a":
            c[a, b] += 1
        elif v.verdict == "b":
            c[b, a] += 1
        else:
            c[a, b] += 0.5
            c[b, a] += 0.5
    return c


def newton_bt(counts: np.ndarray, iters: int = 100) -> np.ndarray:
    """An independent Bradley-Terry fit: Newton's method on -sum c_ij log sigmoid(s_i - s_j)."""
    n = counts.shape[0]
    s = np.zeros(n)
    for _ in range(iters):
        grad, hess = np.zeros(n), np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                c = counts[i, j]
                if i == j or c == 0:
                    continue
                p = 1 / (1 + np.exp(-(s[i] - s[j])))  # P(i beats j)
                grad[i] -= c * (1 - p)
                grad[j] += c * (1 - p)
                h = c * p * (1 - p)
                hess[i, i] += h
                hess[j, j] += h
                hess[i, j] -= h
                hess[j, i] -= h
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]  # defined up to a shift: the least-norm step
        s -= step
        if np.abs(step).max() < 1e-13:
            break
    return s - s.mean()


def test_fit_equals_an_independent_newton_solver():
    votes = simulated_votes({"x": 1.0, "y": 0.0, "z": -0.7, "w": 0.3}, 120, seed=3)
    systems = sorted({v.a for v in votes} | {v.b for v in votes})
    ours = np.array(fit_strengths(votes, systems))
    oracle = newton_bt(counts_by_hand(votes, systems))
    assert np.abs(ours - oracle).max() < 1e-6
    assert systems[int(np.argmax(ours))] == "x"


def test_fit_equals_choix_optimizer_on_the_votes_as_comparisons():
    """choix's scipy optimizer on the (winner, loser) list (a win twice, a tie and the prior's tie once each
    way: the same likelihood doubled) finds the same strengths, with a system that never lost too."""
    import choix

    votes = simulated_votes({"x": 0.8, "y": 0.0, "z": -0.5}, 60, seed=5)
    votes += [Vote("p", "x", "new", "1", "2", "a", id=f"n{i}") for i in range(3)]  # 'new' never won
    systems = sorted({v.a for v in votes} | {v.b for v in votes})
    idx = {name: i for i, name in enumerate(systems)}
    data = [(i, j) for i in range(len(systems)) for j in range(len(systems)) if i != j]  # the virtual ties
    for v in votes:
        a, b = idx[v.a], idx[v.b]
        data += {"a": [(a, b), (a, b)], "b": [(b, a), (b, a)]}.get(v.verdict, [(a, b), (b, a)])
    opt = np.asarray(choix.opt_pairwise(len(systems), data, alpha=1e-12, tol=1e-12))
    ours = np.array(fit_strengths(votes, systems))
    assert np.abs((opt - opt.mean()) - ours).max() < 1e-4
    assert systems[int(np.argmin(ours))] == "new" and np.isfinite(ours).all()


def test_ties_weigh_half_a_win_each_way():
    from playground.core.evaluation.arena_fit import win_counts

    tie = [Vote("p", "x", "y", "1", "2", "tie", id="t")]
    assert win_counts(tie, ["x", "y"]).tolist() == [[0, 0.5], [0.5, 0]]
    assert fit_strengths(tie, ["x", "y"]) == pytest.approx([0.0, 0.0], abs=1e-9)
    won = [Vote("p", "x", "y", "1", "2", "b", id="b")] * 3
    assert win_counts(won, ["x", "y"]).tolist() == [[0, 0], [3, 0]]
    # 3 wins plus the virtual tie: P(y beats x) = 3.5 / 4, so s_y - s_x = log(7)
    x, y = fit_strengths(won, ["x", "y"])
    assert y - x == pytest.approx(np.log(7), abs=1e-6)


def test_leaderboard_ranks_intervals_contain_the_estimate_and_counts():
    votes = simulated_votes({"strong": 1.5, "weak": -1.5}, 60, seed=1)
    board = leaderboard(votes, rounds=100, seed=0)
    assert [s.system for s in board.standings] == ["strong", "weak"]
    for s in board.standings:
        assert s.low <= s.rating <= s.high
        assert s.high - s.low > 1  # resampling 60 votes moves the fit
        assert s.wins + s.losses + s.ties == s.votes == 60
    assert board.votes == 60
    small = leaderboard(votes[:12], rounds=100, seed=0)
    width = lambda b: b.standings[0].high - b.standings[0].low
    assert width(small) > width(board)  # fewer votes, wider intervals
    assert any("Only 12 votes" in n for n in small.notes)


def test_position_bias_is_seen_when_the_left_answer_is_favoured():
    fair = position_bias(simulated_votes({"x": 0.0, "y": 0.0}, 200, seed=2))
    assert not fair.biased and 0.4 < fair.rate < 0.6
    leaning = position_bias(simulated_votes({"x": 0.0, "y": 0.0}, 200, seed=2, left_bias=1.5))
    assert leaning.biased and leaning.rate > 0.7
    assert "left answer wins more often" in leaning.sentence()


def test_leaderboard_bad_inputs():
    with pytest.raises(InputError, match="no votes"):
        leaderboard([])
    same = [Vote("p", "x #1", "x #1", "1", "2", "a", id="s")]
    with pytest.raises(InputError, match="itself"):
        leaderboard(same)
    mixed = same + simulated_votes({"x": 0.0, "y": 0.5}, 10)
    board = leaderboard(mixed, rounds=20)
    assert board.skipped == 1 and board.position.decisive >= 1
    with pytest.raises(InputError, match="not a vote"):
        make_vote("p", "x", "y", "1", "2", "left")


def test_votes_are_kept_across_a_restart_and_exported(home, tmp_path):
    store = VoteStore()
    assert len(store) == 0
    store.add(make_vote("p1", "x", "y", "one", "two", "a", settings={"seed": 1}))
    store.add(make_vote("p2", "y", "x", "three", "four", "both_bad"))
    again = VoteStore()  # a new session reads the same file
    assert [v.verdict for v in again.votes] == ["a", "both_bad"] and again.votes[0].settings == {"seed": 1}
    rows = [json.loads(line) for line in again.path.read_text().splitlines()]
    assert all(r["version"] == ARENA_VERSION for r in rows)
    out = again.export(tmp_path / "out" / "votes.jsonl")
    assert read_votes(out).votes == again.votes
    assert again.undo().prompt == "p2" and len(VoteStore()) == 1


def test_a_vote_file_of_another_version_is_refused_and_fastchat_is_migrated(home, tmp_path):
    newer = tmp_path / "newer.jsonl"
    newer.write_text(json.dumps({"version": 99, "prompt": "p"}) + "\n")
    with pytest.raises(InputError, match="version 99"):
        read_votes(newer)
    fastchat = tmp_path / "battles.jsonl"
    fastchat.write_text(json.dumps({"model_a": "m1", "model_b": "m2", "winner": "tie (bothbad)", "question_id": "q",
                                    "conversation_a": [{"role": "user", "content": "hi"},
                                                       {"role": "assistant", "content": "hello"}],
                                    "conversation_b": [{"role": "user", "content": "hi"},
                                                       {"role": "assistant", "content": "hey"}]}) + "\n")
    got = read_votes(fastchat)
    assert got.migrated == 1 and "migrated" in got.note
    v = got.votes[0]
    assert (v.prompt, v.a, v.b, v.a_text, v.b_text, v.verdict) == ("hi", "m1", "m2", "hello", "hey", "both_bad")
    store = VoteStore(fastchat)  # the store keeps it in this version's format from then on
    assert store.note and json.loads(fastchat.read_text())["version"] == ARENA_VERSION


@pytest.mark.parametrize("text, words", [
    ("{not json\n", "not JSON"),
    ('[1, 2]\n', "not a JSON object"),
    (json.dumps({"version": 1, "prompt": "p"}) + "\n", "lacks a, b"),
    (json.dumps({"version": 1, "prompt": "p", "a": "x", "b": "y", "a_text": "1", "b_text": "2",
                 "verdict": "left"}) + "\n", "verdict 'left'"),
    (json.dumps({"prompt": "p"}) + "\n", "has no version"),
])
def test_bad_vote_files_are_refused_in_plain_words(tmp_path, text, words):
    path = tmp_path / "votes.jsonl"
    path.write_text(text)
    with pytest.raises(InputError, match=words):
        read_votes(path)
    with pytest.raises(InputError, match="no vote file"):
        read_votes(tmp_path / "missing.jsonl")


def test_votes_become_trl_pairs_in_the_align_labels_once(home):
    from playground.core.align.preferences import PreferencePair, learner_labels, learner_labels_path, save_preferences
    from playground.core.evaluation.arena_pairs import pair_rows, send_to_align, vote_pairs

    mine = [PreferencePair("q1", "good", "bad", "learner"), PreferencePair("q2", "fine", "poor", "learner")]
    save_preferences(mine, learner_labels_path())
    votes = [Vote("p", "x", "y", "left answer", "right answer", "b", id="1"),
             Vote("p", "x", "y", "one", "two", "tie", id="2"),
             Vote("p", "x", "y", "one", "two", "both_bad", id="3"),
             Vote("p2", "y", "x", "A text", "B text", "a", id="4")]
    pairs = vote_pairs(votes)
    assert [(p.chosen, p.rejected) for p in pairs] == [("right answer", "left answer"), ("A text", "B text")]
    rows = pair_rows(pairs)
    assert set(rows[0]) >= {"prompt", "chosen", "rejected"} and rows[0]["source"] == "arena"
    sent = send_to_align(votes)
    assert (sent.added, sent.skipped, sent.total) == (2, 2, 4)
    labels = learner_labels()
    assert labels[:2] == mine and [p.reason for p in labels[2:]] == ["arena", "arena"]
    again = send_to_align(votes)
    assert (again.added, again.already) == (0, 2) and len(learner_labels()) == 4
    with pytest.raises(InputError, match="No vote picks a winner"):
        send_to_align(votes[1:3])


def test_agreement_of_a_reward_model_trained_on_arena_votes(tiny_llama):
    """Winners write 'good', losers 'bad': a reward model on the tiny model's features learns it and agrees
    with held-out votes more often than chance; too few votes are refused."""
    from playground.core.align.reward_model import RewardModel
    from playground.core.evaluation.arena_pairs import arena_agreement, split_votes

    rng = random.Random(0)
    votes = []
    for i in range(40):
        good, bad = f"good answer {rng.randint(0, 9)} good", f"bad answer {rng.randint(0, 9)} bad"
        left_wins = rng.random() < 0.5
        a, b = (good, bad) if left_wins else (bad, good)
        votes.append(Vote(f"question {i}", "x", "y", a, b, "a" if left_wins else "b", id=f"v{i}"))
    train, test = split_votes(votes)
    assert train and test and split_votes(votes) == (train, test)  # the split is stable
    rm = RewardModel(tiny_llama.model, tiny_llama.tokenizer, "quick", "policy")
    result = arena_agreement(votes, rm, steps=200)
    assert result.held_out == len(test) and result.train_pairs == len(train)
    assert result.rate > 0.7 and "held-out votes" in result.sentence()
    with pytest.raises(InputError, match="too few"):
        arena_agreement(votes[:2], rm)


def test_one_round_with_a_tiny_model_is_blind_and_votes(tiny_llama, tmp_path):
    from playground.core.evaluation.arena_run import ArenaSystems, bundled_prompt, play, typed_prompt
    from playground.core.evaluation.datasets import load_split
    from playground.core.evaluation.run import FILE, K_SHOT, ZERO_SHOT, SystemSpec

    outputs = tmp_path / "outputs.csv"  # two files' worth of outputs, matched to the dialogue by its id
    outputs.write_text("id,mine,theirs\n" + "".join(f"{ex.id},mine for {ex.id},theirs for {ex.id}\n"
                                                    for ex in load_split("test").examples))
    specs = [SystemSpec(FILE, predictions_path=str(outputs), predictions_column=c) for c in ("mine", "theirs")]
    systems = ArenaSystems(tiny_llama, specs)
    assert systems.note == "" and systems.names == ["outputs.csv:mine", "outputs.csv:theirs"]
    prompt = bundled_prompt(3)
    orders = set()
    for order in range(6):
        m = play(systems, prompt, max_new_tokens=4, order_seed=order)
        orders.add(m.a)
        assert {m.a, m.b} == set(systems.names)
        by_name = {m.a: m.a_text, m.b: m.b_text}
        assert by_name["outputs.csv:theirs"] == f"theirs for {prompt.id}"  # the names follow their answers
    assert orders == set(systems.names)  # both orders are drawn
    vote = m.vote("a")
    assert vote.prompt.startswith("Summarize the following conversation") and vote.prompt.endswith("Summary:")
    assert vote.source["id"] == prompt.id and vote.settings["max_new_tokens"] == 4
    one = ArenaSystems(tiny_llama, [SystemSpec(ZERO_SHOT)])
    assert one.names[0] != one.names[1] and "One system" in one.note
    twin = ArenaSystems(tiny_llama, [SystemSpec(ZERO_SHOT), SystemSpec(ZERO_SHOT)])
    assert "identical" in twin.note
    greedy = play(twin, typed_prompt("Name a colour."), temperature=0, max_new_tokens=3)
    assert greedy.identical  # the same system, greedy: the same answer twice
    sampled = play(twin, typed_prompt("Name a colour."), temperature=1.0, max_new_tokens=8, seed=4)
    assert not sampled.identical  # sampled, each side with its own seed
    with pytest.raises(InputError, match="typed text"):
        play(ArenaSystems(tiny_llama, [SystemSpec(FILE, predictions_path="x.csv", predictions_column="p")]),
             typed_prompt("hi"), max_new_tokens=2)
    with pytest.raises(InputError, match="k-shot"):
        play(ArenaSystems(tiny_llama, [SystemSpec(K_SHOT, shots=1)]), typed_prompt("hi"), max_new_tokens=2)
    with pytest.raises(InputError, match="two at a time"):
        ArenaSystems(tiny_llama, [SystemSpec(ZERO_SHOT)] * 3)
    with pytest.raises(InputError, match="empty"):
        typed_prompt("  ")
    with pytest.raises(InputError, match="no dialogue 999"):
        bundled_prompt(998)


def test_lab_events_fill_the_state_and_the_arena_check():
    from playground.core.labs.checks import run_check
    from playground.core.labs.state import LabState

    s = LabState()
    assert not run_check("arena_votes_to_pairs", s).passed
    s.record("arena.voted", {"votes": 12, "decisive": 9, "systems": ["x", "y"]})
    result = run_check("arena_votes_to_pairs", s)
    assert not result.passed and "Send votes" in result.detail
    s.record("arena.sent", {"added": 9, "total": 11})
    s.record("arena.agreement", {"agree": 3, "held_out": 4, "rate": 0.75})
    assert run_check("arena_votes_to_pairs", s).passed and s.arena["agreement"] == 0.75


def test_the_notebook_refits_the_leaderboard_as_the_app_does():
    """The notebook's code cell, run here, gives the app's ratings (the same choix fit)."""
    from playground.core.evaluation.arena_notebook import arena_cells
    from playground.core.labs.notebook import EXPERIMENTS

    assert EXPERIMENTS["arena"] is not None
    votes = simulated_votes({"x": 0.6, "y": -0.2, "z": 0.0}, 40, seed=9)
    cells = arena_cells({"prior": PRIOR_TIES, "votes": [{"a": v.a, "b": v.b, "verdict": v.verdict} for v in votes]})
    scope = {"results": {}}
    exec(cells[-1][1], scope)  # noqa: S102 (the generated cell, as a learner would run it)
    board = leaderboard(votes, rounds=5)
    for s in board.standings:
        assert scope["results"]["arena"]["ratings"][s.system] == pytest.approx(s.rating, abs=1e-6)
    with pytest.raises(InputError, match="no arena votes"):
        arena_cells({"votes": []})
