"""Server-rendered SVG charts: geometry only; templates/diagnosis/_insight_chart.html draws them
(auto-escaped labels, role="img" with <title> and <desc>, and the data table behind each)."""

WIDTH = 640
LABEL_WIDTH = 170
BAR_HEIGHT = 22
GAP = 6
COLUMN_HEIGHT = 180
AXIS = 24


def _nice_max(value: int) -> int:
    if value <= 5:
        return max(value, 1)
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return value


def bars(rows: list[dict], *, unit: str = "") -> dict:
    """Horizontal bars for categories: one row per item, longest = full width."""
    top = max((r["value"] for r in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 60
    items = []
    for i, row in enumerate(rows):
        y = i * (BAR_HEIGHT + GAP)
        items.append(
            {
                **row,
                "y": y,
                "text_y": y + BAR_HEIGHT * 0.7,
                "width": round(span * row["value"] / top, 1),
                "value_x": LABEL_WIDTH + round(span * row["value"] / top, 1) + 6,
                "short_label": row["label"] if len(row["label"]) <= 18 else row["label"][:17] + "…",
            }
        )
    return {
        "kind": "bars",
        "width": WIDTH,
        "height": max(1, len(rows)) * (BAR_HEIGHT + GAP),
        "label_width": LABEL_WIDTH,
        "label_x": LABEL_WIDTH - 8,
        "bar_height": BAR_HEIGHT,
        "items": items,
        "unit": unit,
    }


def columns(rows: list[dict]) -> dict:
    """Columns over time: y axis from 0 to a round maximum; a few x labels."""
    top = _nice_max(max((r["value"] for r in rows), default=0))
    count = max(1, len(rows))
    plot = WIDTH - 50
    step = plot / count
    items = []
    for i, row in enumerate(rows):
        height = round(COLUMN_HEIGHT * row["value"] / top, 1) if top else 0
        items.append(
            {
                **row,
                "x": round(50 + i * step, 2),
                "width": round(max(step - 1, 0.5), 2),
                "y": round(AXIS / 2 + COLUMN_HEIGHT - height, 1),
                "height": height,
            }
        )
    ticks = sorted({0, count // 2, count - 1}) if rows else []
    return {
        "kind": "columns",
        "width": WIDTH,
        "height": COLUMN_HEIGHT + AXIS * 2,
        "baseline": AXIS / 2 + COLUMN_HEIGHT,
        "top_y": AXIS / 2 + 4,
        "max": top,
        "items": items,
        "x_labels": [
            {
                "x": items[i]["x"] + (items[i]["width"] if i == count - 1 and i else 0),
                "label": rows[i]["label"],
                "y": COLUMN_HEIGHT + AXIS * 1.6,
                # the last label ends at the right edge instead of running off it
                "anchor": "end" if i == count - 1 and i else ("start" if i == 0 else "middle"),
            }
            for i in ticks
        ],
    }
