"""Draw the figures of the ray_magics tutorials as SVG, in English and in Simplified Chinese.

Five figures, each written twice, from the same drawing code with a different labels table:

- ``worker_and_actor_processes.svg``: stateless tasks on a pool of worker processes vs one actor process with state;
- ``method_calls.svg``: method calls from the driver queue at one actor, which runs them one at a time, in order;
- ``actor_tree.svg``: the driver holds a Supervisor actor, which creates and owns the Worker actors;
- ``message_actor_fan_in.svg``: many workers send messages to one MessageActor, the driver reads them;
- ``monte_carlo_pi.svg``: random points in a unit square, inside or outside the quarter circle, and the estimate of pi.

English figures go to ``notebooks/figures/``, Chinese ones to ``notebooks/zh/figures/``. The script uses the
standard library only and is deterministic (fixed seed, fixed number formatting): running it twice writes
byte-identical files.

Usage (from the repository root)::

    python notebooks/figures/make_figures.py [NOTEBOOKS_DIR]

NOTEBOOKS_DIR defaults to the folder above this script; the figures are written to NOTEBOOKS_DIR/figures and
NOTEBOOKS_DIR/zh/figures.
"""

from __future__ import annotations

import random
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

WIDTH = 720
FONT = "sans-serif"
MONO = "monospace"
SEED = 2024  # the Monte Carlo points: the same on every run
NUM_POINTS = 400
LINE_HEIGHT = 1.3  # in em
SUB_SIZE = 12.5  # px, the second line of a box

# Okabe-Ito colours: told apart with every common kind of colour blindness, and readable on white.
INK = "#1a1a1a"
MUTED = "#555555"


@dataclass(frozen=True)
class Style:
    stroke: str
    fill: str


BLUE = Style("#0072b2", "#e1eef8")
ORANGE = Style("#d55e00", "#fbe6d6")
GREY = Style("#555555", "#f2f2f2")
WHITE = Style("#555555", "#ffffff")
POINT_INSIDE = "#0072b2"
POINT_OUTSIDE = "#e69f00"


# --- the drawing helpers every figure uses -------------------------------------------------------------------


@dataclass
class Canvas:
    """An SVG drawing of width WIDTH: elements are added in paint order, then `render` writes the document."""

    height: int
    title: str
    desc: str
    parts: list[str] = field(default_factory=list)
    markers: dict[str, str] = field(default_factory=dict)  # marker id -> colour

    def add(self, element: str) -> None:
        self.parts.append(element)

    def marker(self, colour: str) -> str:
        """The id of an arrowhead marker in this colour (defined once, in <defs>)."""
        marker_id = "arrow-" + colour.lstrip("#")
        self.markers[marker_id] = colour
        return marker_id

    def render(self) -> str:
        size = f"0 0 {WIDTH} {self.height}"
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{self.height}" viewBox="{size}" '
            f'role="img" aria-labelledby="title desc" font-family="{FONT}">',
            f'<title id="title">{escape(self.title)}</title>',
            f'<desc id="desc">{escape(self.desc)}</desc>',
            "<defs>",
        ]
        for marker_id, colour in sorted(self.markers.items()):
            lines.append(
                f'<marker id="{marker_id}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="5" markerHeight="5" '
                f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
            )
        lines.append("</defs>")
        lines.append('<rect width="100%" height="100%" fill="#ffffff"/>')  # readable in dark mode too
        lines.extend(self.parts)
        lines.append("</svg>")
        return "\n".join(lines) + "\n"


def num(value: float) -> str:
    """A coordinate, written the same way on every run: at most 2 decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def attributes(**values: str | float | None) -> str:
    """XML attributes from keyword arguments (`stroke_width` -> `stroke-width`), leaving out the None ones."""
    return " ".join(
        f"{name.replace('_', '-')}={quoteattr(value if isinstance(value, str) else num(value))}"
        for name, value in values.items()
        if value is not None
    )


def text_width(content: str, size: float, mono: bool = False) -> float:
    """A generous estimate of the widest line's width in px (CJK characters are one em wide)."""
    narrow = 0.6 if mono else 0.57
    return max(
        sum(size if unicodedata.east_asian_width(char) in "WF" else size * narrow for char in line)
        for line in content.split("\n")
    )


def text(
    canvas: Canvas,
    x: float,
    y: float,
    content: str,
    *,
    size: float = 14,
    anchor: str = "middle",
    weight: str | None = None,
    colour: str = INK,
    mono: bool = False,
) -> None:
    """Text whose first line has its baseline at y; "\\n" starts a new line."""
    lines = content.split("\n")
    spans = "".join(
        f'<tspan x="{num(x)}" dy="{num(0 if i == 0 else size * LINE_HEIGHT)}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    attrs = attributes(x=x, y=y, font_size=size, text_anchor=anchor, font_weight=weight,
                       font_family=MONO if mono else None, fill=colour)
    canvas.add(f"<text {attrs}>{spans}</text>")


def stacked_text(canvas: Canvas, cx: float, cy: float, blocks: list[tuple[str, float, dict]], gap=4) -> None:
    """Blocks of text (content, size, text options) one under the other, the whole stack centred on (cx, cy)."""
    heights = [(content.count("\n") + 1) * size * LINE_HEIGHT for content, size, _ in blocks]
    top = cy - (sum(heights) + gap * (len(blocks) - 1)) / 2
    for (content, size, options), height in zip(blocks, heights, strict=True):
        text(canvas, cx, top + size * (LINE_HEIGHT / 2 + 0.35), content, size=size, **options)
        top += height + gap


def centred_text(canvas: Canvas, cx: float, cy: float, content: str, *, size: float = 14, **options) -> None:
    """Text whose block of lines is centred on (cx, cy)."""
    stacked_text(canvas, cx, cy, [(content, size, options)])


def check_fits(content: str, width: float, size: float, mono: bool = False) -> None:
    """Refuse a label wider than the room it has, so no language's text spills out of its box."""
    if text_width(content, size, mono) > width:
        raise ValueError(f"label {content!r} is too wide for {num(width)} px at {num(size)} px")


def rect(canvas: Canvas, x: float, y: float, w: float, h: float, style: Style, *, dashed: bool = False, rx=8) -> None:
    attrs = attributes(x=x, y=y, width=w, height=h, rx=rx, fill=style.fill, stroke=style.stroke,
                       stroke_width=1.5 if dashed else 2, stroke_dasharray="6 4" if dashed else None)
    canvas.add(f"<rect {attrs}/>")


def box(
    canvas: Canvas,
    x: float,
    y: float,
    w: float,
    h: float,
    style: Style,
    label: str = "",
    *,
    sub: str = "",
    sub_mono: bool = True,
    size: float = 15,
    mono: bool = False,
    weight: str | None = "bold",
) -> None:
    """A rounded box with a label centred in it, and an optional second, smaller line (`sub`) under the label."""
    rect(canvas, x, y, w, h, style)
    blocks = []
    if label:
        check_fits(label, w - 10, size, mono)
        blocks.append((label, size, {"weight": weight, "mono": mono}))
    if sub:
        check_fits(sub, w - 10, SUB_SIZE, sub_mono)
        blocks.append((sub, SUB_SIZE, {"mono": sub_mono, "colour": MUTED}))
    stacked_text(canvas, x + w / 2, y + h / 2, blocks)


def arrow(canvas: Canvas, *points: tuple[float, float], colour: str = MUTED, dashed: bool = False) -> None:
    """A line through `points` with an arrowhead at the last one (the tip lands exactly there)."""
    path = "M" + " L".join(f"{num(x)},{num(y)}" for x, y in points)
    attrs = attributes(
        d=path,
        fill="none",
        stroke=colour,
        stroke_width=2,
        stroke_dasharray="6 4" if dashed else None,
        stroke_linejoin="round",
        marker_end=f"url(#{canvas.marker(colour)})",
    )
    canvas.add(f"<path {attrs}/>")


def line(canvas: Canvas, x1: float, y1: float, x2: float, y2: float, *, colour: str = MUTED, dashed=False) -> None:
    attrs = attributes(
        x1=x1, y1=y1, x2=x2, y2=y2, stroke=colour, stroke_width=1.5, stroke_dasharray="6 4" if dashed else None
    )
    canvas.add(f"<line {attrs}/>")


def dot(canvas: Canvas, cx: float, cy: float, colour: str, r: float = 3) -> None:
    canvas.add(f"<circle {attributes(cx=cx, cy=cy, r=r, fill=colour)}/>")


def square_dot(canvas: Canvas, cx: float, cy: float, colour: str, half: float = 2.6) -> None:
    attrs = attributes(x=cx - half, y=cy - half, width=2 * half, height=2 * half, fill=colour)
    canvas.add(f"<rect {attrs}/>")


# --- the labels, one table per language ----------------------------------------------------------------------

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "worker_and_actor_processes": {
            "title": "Tasks run on any worker process; an actor is one process that keeps its state",
            "desc": "Left: calls of a stateless task go to a pool of worker processes; any worker runs any task "
            "and no task can count on what another left in it. Right: every call to an actor goes to its one "
            "dedicated process, which keeps self.count from one call to the next.",
            "tasks": "Tasks: stateless",
            "actor": "Actor: stateful",
            "calls": "calls",
            "workers": "worker processes",
            "worker": "worker {n}",
            "actor_process": "actor process",
            "actor_class": "Counter",
            "state": "state",
            "tasks_caption": "Any worker runs any task;\nno task can count on what another left.",
            "actor_caption": "One dedicated process;\nits state stays between calls.",
        },
        "method_calls": {
            "title": "Method calls queue at one actor, which runs them one at a time, in order",
            "desc": "The driver, the notebook, calls a.f.remote(), a.g.remote() and a.h.remote(). The calls wait in "
            "actor a's queue; the actor runs f, then g, then h, one at a time, and its state carries from one "
            "call to the next. Each call gives the driver an ObjectRef to its result.",
            "driver": "driver (the notebook)",
            "queue": "a's queue",
            "calls": "calls",
            "next": "next",
            "actor": "actor a",
            "one_process": "one process",
            "state": "state, kept\nbetween calls",
            "runs": "a runs them:",
            "time": "time",
            "carried": "state carried over",
            "refs": "ObjectRefs r1, r2, r3: ray.get(r1) gives f's result",
        },
        "actor_tree": {
            "title": "The actor tree: a Supervisor actor creates and owns its Worker actors",
            "desc": "The driver holds a handle to a Supervisor actor. The Supervisor creates three Worker actors "
            "and owns them: when the Supervisor goes, its Workers go with it.",
            "driver": "driver (the notebook)",
            "handle": "holds a handle",
            "supervisor": "Supervisor actor",
            "creates": "creates and owns",
            "worker": "Worker actor",
            "owned": "owned by the Supervisor",
            "caption": "When the Supervisor goes, its Worker actors go with it.",
        },
        "message_actor_fan_in": {
            "title": "Fan-in: many workers send messages to one MessageActor; the driver reads them",
            "desc": "Three worker tasks hold a handle to one MessageActor and call add_message on it. The actor "
            "keeps the messages in self.messages until the driver collects them with get_and_clear_messages.",
            "worker": "worker {n}",
            "task": "Ray task",
            "driver": "driver (the notebook)",
            "reads": "reads the collected messages",
            "more": "…",
        },
        "monte_carlo_pi": {
            "title": "Estimating π with random points in a unit square",
            "desc": "Random points in the unit square: those inside the quarter circle of radius 1 are blue dots, "
            "those outside are orange squares. The quarter circle covers π/4 of the square, so π is about "
            "4 times the share of points inside.",
            "inside": "inside the quarter circle: {n}",
            "outside": "outside: {n}",
            "total": "total: {n}",
            "formula": "π ≈ 4 · inside / total",
            "ratio": "the quarter circle covers π/4\nof the square's area;\nthe more points, the closer to π",
        },
    },
    "zh": {
        "worker_and_actor_processes": {
            "title": "任务可在任意工作进程上运行；Actor 是一个保存状态的专属进程",
            "desc": "左图：无状态任务的调用被分发到一组工作进程，任意工作进程都能执行任意任务，"
            "任务不能依赖其他任务在进程中留下的东西。"
            "右图：对 Actor 的每次调用都发往它专属的进程，self.count 在多次调用之间一直保留。",
            "tasks": "任务：无状态",
            "actor": "Actor：有状态",
            "calls": "调用",
            "workers": "工作进程",
            "worker": "工作进程 {n}",
            "actor_process": "Actor 进程",
            "actor_class": "Counter",
            "state": "状态",
            "tasks_caption": "任意工作进程都能执行任意任务，\n任务不能依赖其他任务留下的东西。",
            "actor_caption": "一个专属进程，\n状态在多次调用之间一直保留。",
        },
        "method_calls": {
            "title": "方法调用在 Actor 的队列中排队，按顺序逐个执行",
            "desc": "驱动程序（notebook）依次调用 a.f.remote()、a.g.remote() 和 a.h.remote()。这些调用在 Actor a "
            "的队列中等待；Actor 先执行 f，再执行 g，最后执行 h，一次只执行一个，状态在调用之间延续。"
            "每次调用都会给驱动程序返回一个指向结果的对象引用（ObjectRef）。",
            "driver": "驱动程序（notebook）",
            "queue": "a 的队列",
            "calls": "调用",
            "next": "下一个",
            "actor": "Actor a",
            "one_process": "一个进程",
            "state": "状态\n在调用之间保留",
            "runs": "a 依次执行：",
            "time": "时间",
            "carried": "状态延续到下一次调用",
            "refs": "对象引用 r1、r2、r3：ray.get(r1) 取得 f 的结果",
        },
        "actor_tree": {
            "title": "Actor 树：监督者 Actor 创建并拥有它的工作者 Actor",
            "desc": "驱动程序持有监督者 Actor（Supervisor）的句柄。监督者创建了三个工作者 Actor（Worker）并拥有它们："
            "监督者终止时，这些工作者也随之终止。",
            "driver": "驱动程序（notebook）",
            "handle": "持有句柄",
            "supervisor": "监督者（Supervisor）",
            "creates": "创建并拥有",
            "worker": "工作者（Worker）",
            "owned": "归监督者所有",
            "caption": "监督者终止时，它拥有的工作者 Actor 也随之终止。",
        },
        "message_actor_fan_in": {
            "title": "扇入：多个任务向同一个 MessageActor 发送消息，驱动程序从中读取",
            "desc": "三个 worker 函数的任务持有同一个 MessageActor 的句柄，并调用它的 add_message。Actor 把消息保存在 "
            "self.messages 中，直到驱动程序用 get_and_clear_messages 取走。",
            "worker": "worker {n}",
            "task": "Ray 任务",
            "driver": "驱动程序（notebook）",
            "reads": "读取已收集的消息",
            "more": "…",
        },
        "monte_carlo_pi": {
            "title": "用单位正方形中的随机点估算 π",
            "desc": "单位正方形中的随机点：落在半径为 1 的四分之一圆内的画成蓝色圆点，圆外的画成橙色方块。"
            "四分之一圆的面积占正方形的 π/4，所以 π 约等于圆内点所占比例的 4 倍。",
            "inside": "四分之一圆内：{n} 个",
            "outside": "圆外：{n} 个",
            "total": "总数：{n} 个",
            "formula": "π ≈ 4 · 圆内点数 / 总点数",
            "ratio": "四分之一圆的面积占正方形的 π/4；\n点越多，估算越接近 π",
        },
    },
}


# --- the figures ---------------------------------------------------------------------------------------------


def worker_and_actor_processes(t: dict[str, str]) -> Canvas:
    canvas = Canvas(360, t["title"], t["desc"])
    text(canvas, 180, 34, t["tasks"], size=18, weight="bold", colour=BLUE.stroke)
    text(canvas, 540, 34, t["actor"], size=18, weight="bold", colour=ORANGE.stroke)
    line(canvas, 360, 16, 360, 344, dashed=True)
    rows = [80, 150, 220]

    # Left: three task calls, each sent to whichever worker is free.
    text(canvas, 87, 64, t["calls"], size=13, colour=MUTED)
    text(canvas, 273, 64, t["workers"], size=13, colour=MUTED)
    for n, y in enumerate(rows, start=1):
        box(canvas, 24, y, 126, 40, WHITE, f"f.remote({n})", size=13, mono=True, weight=None)
        box(canvas, 206, y, 134, 40, BLUE, t["worker"].format(n=n), size=14)
    for source, target in [(0, 1), (1, 2), (2, 0)]:
        arrow(canvas, (150, rows[source] + 20), (206, rows[target] + 20), colour=BLUE.stroke)
    centred_text(canvas, 180, 300, t["tasks_caption"], size=14)

    # Right: three calls to one actor, all to its one process, which keeps self.count.
    text(canvas, 445, 64, t["calls"], size=13, colour=MUTED)
    for n, y in enumerate(rows, start=1):
        box(canvas, 380, y, 130, 40, WHITE, "c.incr.remote()", size=13, mono=True, weight=None)
        arrow(canvas, (510, y + 20), (552, 130 + 40 * (n - 1)), colour=ORANGE.stroke)
    rect(canvas, 552, 80, 148, 180, ORANGE)
    centred_text(canvas, 626, 116, f"{t['actor_process']}\n{t['actor_class']}", size=14, weight="bold")
    box(canvas, 562, 170, 128, 70, WHITE, t["state"], sub="self.count = 3", size=14)
    centred_text(canvas, 540, 300, t["actor_caption"], size=14)
    return canvas


def method_calls(t: dict[str, str]) -> Canvas:
    canvas = Canvas(380, t["title"], t["desc"])
    # The driver, its calls, the queue and the actor, left to right.
    rect(canvas, 20, 40, 200, 150, GREY)
    check_fits(t["driver"], 190, 14)
    text(canvas, 120, 68, t["driver"], size=14, weight="bold")
    for i, name in enumerate("fgh"):
        text(canvas, 36, 106 + 26 * i, f"r{i + 1} = a.{name}.remote()", size=13, anchor="start", mono=True)

    text(canvas, 250, 104, t["calls"], size=12, colour=MUTED)
    arrow(canvas, (220, 115), (282, 115))
    text(canvas, 365, 78, t["queue"], size=13, weight="bold", colour=ORANGE.stroke)
    for i, name in enumerate("hgf"):  # f was sent first: it is at the front, next to the actor
        box(canvas, 282 + i * 56, 90, 50, 50, ORANGE, name, size=16, mono=True)
    text(canvas, 472, 104, t["next"], size=12, colour=MUTED)
    arrow(canvas, (444, 115), (500, 115), colour=ORANGE.stroke)

    rect(canvas, 500, 40, 200, 150, ORANGE)
    text(canvas, 600, 68, t["actor"], size=15, weight="bold")
    text(canvas, 600, 88, t["one_process"], size=12.5, colour=MUTED)
    box(canvas, 520, 104, 160, 68, BLUE, t["state"], size=13, weight=None)

    # The actor's timeline: f, then g, then h, never two at once; the state carries from one call to the next.
    text(canvas, 20, 245, t["runs"], size=14, anchor="start", weight="bold")
    starts = [160, 290, 420]
    for start, name in zip(starts, "fgh", strict=True):
        box(canvas, start, 225, 110, 30, ORANGE, name, size=15, mono=True)
    for start in starts[1:]:
        dot(canvas, start - 10, 240, BLUE.stroke, r=4)
    text(canvas, 345, 280, t["carried"], size=12, colour=BLUE.stroke)
    arrow(canvas, (160, 294), (560, 294))
    text(canvas, 566, 298, t["time"], size=12, anchor="start", colour=MUTED)

    # The results come back to the driver through the ObjectRefs.
    arrow(canvas, (650, 190), (650, 332), (120, 332), (120, 190), colour=BLUE.stroke, dashed=True)
    check_fits(t["refs"], 520, 13)
    text(canvas, 385, 356, t["refs"], size=13, colour=BLUE.stroke)
    return canvas


def actor_tree(t: dict[str, str]) -> Canvas:
    canvas = Canvas(420, t["title"], t["desc"])
    box(canvas, 240, 20, 240, 60, GREY, t["driver"], sub="sup = Supervisor.remote()", size=14)
    arrow(canvas, (360, 80), (360, 136))
    text(canvas, 372, 113, t["handle"], size=13, anchor="start", colour=MUTED)
    box(canvas, 240, 136, 240, 60, ORANGE, t["supervisor"], sub="self.workers = [...]", size=15)

    rect(canvas, 24, 236, 672, 134, WHITE, dashed=True, rx=14)
    names = ["lr", "cl", "nn"]
    for i, name in enumerate(names):
        left = 40 + 230 * i
        box(canvas, left, 256, 180, 60, BLUE, t["worker"], sub=f'name="{name}"', size=15)
        arrow(canvas, (300 + 60 * i, 196), (left + 90, 256), colour=ORANGE.stroke)
    text(canvas, 516, 222, t["creates"], size=13, anchor="start", colour=ORANGE.stroke)
    text(canvas, 360, 352, t["owned"], size=13, colour=MUTED)
    text(canvas, 360, 402, t["caption"], size=15, weight="bold")
    return canvas


def message_actor_fan_in(t: dict[str, str]) -> Canvas:
    canvas = Canvas(450, t["title"], t["desc"])
    for j in range(3):
        left = 40 + 230 * j
        box(canvas, left, 20, 180, 54, BLUE, t["worker"].format(n=j), sub=t["task"], sub_mono=False, size=15)
        arrow(canvas, (left + 90, 74), (230 + 130 * j, 150), colour=BLUE.stroke)
    text(canvas, 372, 118, "add_message.remote(…)", size=12, anchor="start", mono=True, colour=BLUE.stroke)

    rect(canvas, 160, 150, 400, 150, ORANGE)
    text(canvas, 360, 176, "MessageActor", size=15, weight="bold")
    text(canvas, 360, 196, "self.messages", size=12.5, mono=True, colour=MUTED)
    messages = [(0, 1), (0, 0), (1, 1), (0, 2)]  # interleaved across workers, in order within each worker
    for k, (i, j) in enumerate(messages):
        left, top = 176 + 188 * (k % 2), 208 + 32 * (k // 2)
        box(canvas, left, top, 180, 26, WHITE, f"Message {i} from worker {j}.", size=11, mono=True, weight=None)
    text(canvas, 360, 290, t["more"], size=14, colour=MUTED)

    arrow(canvas, (360, 300), (360, 370), colour=ORANGE.stroke)
    text(canvas, 372, 340, "get_and_clear_messages.remote()", size=12, anchor="start", mono=True, colour=MUTED)
    box(canvas, 220, 370, 280, 60, GREY, t["driver"], sub=t["reads"], sub_mono=False, size=14)
    return canvas


def monte_carlo_pi(t: dict[str, str]) -> Canvas:
    canvas = Canvas(400, t["title"], t["desc"])
    left, bottom, side = 50, 370, 340  # the unit square, in px

    def px(x: float, y: float) -> tuple[float, float]:
        return left + x * side, bottom - y * side

    square = attributes(x=left, y=bottom - side, width=side, height=side, fill="#ffffff", stroke=MUTED)
    canvas.add(f'<rect {square} stroke-width="1.5"/>')
    quarter = f"M{left},{bottom} L{left},{bottom - side} A{side},{side} 0 0 1 {left + side},{bottom} Z"
    canvas.add(f"<path {attributes(d=quarter, fill=BLUE.fill, stroke=BLUE.stroke, stroke_width=1.5)}/>")

    rng = random.Random(SEED)
    inside = 0
    for _ in range(NUM_POINTS):
        x, y = rng.random(), rng.random()
        if x * x + y * y <= 1:
            inside += 1
            dot(canvas, *px(x, y), POINT_INSIDE, r=2.8)
        else:
            square_dot(canvas, *px(x, y), POINT_OUTSIDE)
    for tick in (0, 1):  # the axes' ends: x under the square, y on its left
        text(canvas, px(tick, 0)[0], bottom + 18, str(tick), size=13, colour=MUTED)
        text(canvas, left - 8, px(0, tick)[1] + 5, str(tick), size=13, anchor="end", colour=MUTED)

    # The legend, the counts and the estimate.
    x0 = 430
    dot(canvas, x0 + 6, 76, POINT_INSIDE, r=5)
    text(canvas, x0 + 20, 81, t["inside"].format(n=inside), size=15, anchor="start")
    square_dot(canvas, x0 + 6, 108, POINT_OUTSIDE, half=4.5)
    text(canvas, x0 + 20, 113, t["outside"].format(n=NUM_POINTS - inside), size=15, anchor="start")
    text(canvas, x0 + 20, 145, t["total"].format(n=NUM_POINTS), size=15, anchor="start")
    text(canvas, x0, 215, t["formula"], size=18, anchor="start", weight="bold")
    estimate = 4 * inside / NUM_POINTS
    text(canvas, x0, 248, f"= 4 · {inside} / {NUM_POINTS} = {estimate:.2f}", size=18, anchor="start")
    check_fits(t["ratio"], WIDTH - x0 - 10, 13)
    text(canvas, x0, 300, t["ratio"], size=13, anchor="start", colour=MUTED)
    return canvas


FIGURES: dict[str, Callable[[dict[str, str]], Canvas]] = {
    "worker_and_actor_processes.svg": worker_and_actor_processes,
    "method_calls.svg": method_calls,
    "actor_tree.svg": actor_tree,
    "message_actor_fan_in.svg": message_actor_fan_in,
    "monte_carlo_pi.svg": monte_carlo_pi,
}
OUTPUT_FOLDERS = {"en": Path("figures"), "zh": Path("zh") / "figures"}


def write_figures(notebooks_dir: Path) -> list[Path]:
    """Write every figure in every language under `notebooks_dir`; return the files written."""
    written = []
    for language, folder in OUTPUT_FOLDERS.items():
        target = notebooks_dir / folder
        target.mkdir(parents=True, exist_ok=True)
        for file_name, draw in FIGURES.items():
            path = target / file_name
            labels = LABELS[language][file_name.removesuffix(".svg")]
            with path.open("w", encoding="utf-8", newline="\n") as out:
                out.write(draw(labels).render())
            written.append(path)
    return written


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(__doc__, file=sys.stderr)
        return 2
    notebooks_dir = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent
    for path in write_figures(notebooks_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
