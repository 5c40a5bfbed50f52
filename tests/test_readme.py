"""Every command in README.md (and so on the docs' quick-start page, which is made from it) works as written, with
this environment instead of a fresh .venv and the tiny preset where the page says default, from a repository copy."""
import re
from conftest import ROOT, documented_commands, as_tested, run_documented

README = (ROOT / "README.md").read_text()
STUDY = re.search(r"<!-- study-command -->\s*```bash\n(.*?)```", README, re.S).group(1).strip()


def test_the_documented_commands_are_found_and_the_quickstart_page_repeats_them():
    from vgs_study.docs import quickstart
    cmds = documented_commands(README)
    assert len(cmds) >= 7 and any("papermill" in c for c in cmds) and any(" train " in c for c in cmds)
    assert not any("pytest" in c for c in cmds)                      # the test command is the one that runs this file
    assert set(documented_commands(quickstart(README))) <= set(cmds) and STUDY in cmds
    assert as_tested('.venv/bin/vgs-study study --preset default --out x').endswith("vgs-study study --preset tiny --out x")


def test_readme_commands_work_as_written(repo_copy):
    "All but the study command, which test_study runs (the tiny study is the slowest command)."
    for cmd in [c for c in documented_commands(README) if c != STUDY]:
        r = run_documented(cmd, repo_copy)
        assert r.returncode == 0, f"`{cmd}` failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    assert (repo_copy / "runs/w2v2-vgs/recall.csv").exists() and (repo_copy / "runs/nb/w2v2-vgs/abx.csv").exists()
    assert (repo_copy / "runs/nb/train.ipynb").exists() and list((repo_copy / "runs/w2v2-vgs/tensorboard").glob("events.*"))
