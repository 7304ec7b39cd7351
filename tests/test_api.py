"""``nengo_lmu.__all__`` lists the package's public names (the docs' API reference
documents them as ``nengo_lmu.NAME``; ``make docs`` checks every public name has an
entry)."""

import types

import nengo_lmu


def test_all_lists_the_public_names():
    public = {
        name
        for name, obj in vars(nengo_lmu).items()
        if not name.startswith("_") and not isinstance(obj, types.ModuleType)
    }
    assert sorted(nengo_lmu.__all__) == sorted(public)
    assert len(set(nengo_lmu.__all__)) == len(nengo_lmu.__all__)
