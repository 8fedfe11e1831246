from neuroclinic.measures.instruments import get_instrument


def phq9(total: int = 10, *, item9: int = 0) -> dict[str, object]:
    """PHQ-9 answers adding up to `total`, with item 9 as given."""
    answers: dict[str, object] = {f"phq9-{n}": 0 for n in range(1, 10)}
    answers["phq9-9"] = item9
    remaining = total - item9
    for n in range(1, 9):
        step = min(3, remaining)
        answers[f"phq9-{n}"] = step
        remaining -= step
    assert remaining == 0, "total too high for item 9 as given"
    return answers


def lowest(code: str) -> dict[str, object]:
    """Every required item answered with its lowest option."""
    instrument = get_instrument(code)
    return {
        i.link_id: min(o.value for o in i.options)
        for i in instrument.items
        if i.required
    }
