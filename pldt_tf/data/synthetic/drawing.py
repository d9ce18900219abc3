"""Drawing a synthetic product: the product shot and the photo of a person
wearing it.

Everything is drawn as polygons in a garment-local frame (unit: half the
shoulder width, origin at the neck) mapped to the canvas by an affine
transform, so one garment model serves flat product shots and the clothed
figure, and patterns follow rotation.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from pldt_tf.data.synthetic.vocabulary import (
    ProductSpec,
    Variation,
    shade,
)

# Garment geometry per category, in units of half the shoulder width:
# body length, hem half-width, sleeve length (0: none), sleeve width,
# neckline ("crew", "scoop", "v"), neck half-width.
_SHAPES = {
    "t_shirt": dict(
        length=2.3, hem=0.95, sleeve=0.75, sleeve_w=0.62, neck="crew", neck_w=0.36
    ),
    "long_sleeve": dict(
        length=2.3, hem=0.9, sleeve=2.25, sleeve_w=0.4, neck="crew", neck_w=0.34
    ),
    "tank_top": dict(
        length=2.2, hem=0.88, sleeve=0.0, sleeve_w=0.0, neck="scoop", neck_w=0.42
    ),
    "hoodie": dict(
        length=2.4, hem=0.95, sleeve=2.25, sleeve_w=0.56, neck="crew", neck_w=0.3
    ),
    "collared_shirt": dict(
        length=2.65, hem=0.95, sleeve=2.25, sleeve_w=0.44, neck="v", neck_w=0.3
    ),
    "cardigan": dict(
        length=2.4, hem=1.06, sleeve=2.25, sleeve_w=0.5, neck="v", neck_w=0.34
    ),
}
_SHOULDER = np.array([0.95, 0.18])  # right shoulder joint; the left mirrors it


# --------------------------------------------------------------------------
# Geometry.


@dataclasses.dataclass(frozen=True)
class Affine:
    """Garment-local → canvas: ``p ↦ origin + scale · R(angle) · p``."""

    scale: float
    angle: float  # degrees, counter-clockwise on screen
    origin: tuple[float, float]

    def _matrix(self) -> np.ndarray:
        a = math.radians(self.angle)
        # Screen y points down, so a counter-clockwise turn uses -sin on x.
        return self.scale * np.array(
            [[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]]
        )

    def apply(self, points) -> list[tuple[float, float]]:
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        out = points @ self._matrix().T + np.asarray(self.origin)
        return [tuple(p) for p in out]

    def local_grid(
        self, box: tuple[int, int, int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Garment-local (u, v) of every pixel centre in ``box`` (l, t, r, b)."""
        left, top, right, bottom = box
        ys, xs = np.mgrid[top:bottom, left:right].astype(np.float64) + 0.5
        inverse = np.linalg.inv(self._matrix())
        dx, dy = xs - self.origin[0], ys - self.origin[1]
        return inverse[0, 0] * dx + inverse[0, 1] * dy, inverse[1, 0] * dx + inverse[
            1, 1
        ] * dy


def _ellipse(cx, cy, rx, ry, n=28) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _arm_path(side: int, angles: tuple[float, float], length: float) -> np.ndarray:
    """Shoulder → elbow → wrist; angles in degrees from straight down,
    positive away from the body; ``side`` is +1 (right) or -1 (left)."""
    upper, fore = angles
    shoulder = _SHOULDER * [side, 1]
    elbow = shoulder + 0.5 * length * np.array(
        [side * math.sin(math.radians(upper)), math.cos(math.radians(upper))]
    )
    wrist = elbow + 0.5 * length * np.array(
        [side * math.sin(math.radians(fore)), math.cos(math.radians(fore))]
    )
    return np.stack([shoulder, elbow, wrist])


def _truncate(path: np.ndarray, length: float) -> np.ndarray:
    """The first ``length`` units of a polyline."""
    out, left = [path[0]], length
    for a, b in zip(path[:-1], path[1:], strict=True):
        seg = float(np.linalg.norm(b - a))
        if seg >= left:
            out.append(a + (b - a) * (left / max(seg, 1e-9)))
            return np.stack(out)
        out.append(b)
        left -= seg
    return np.stack(out)


def _body_outline(shape: dict, length: float, tank: bool) -> np.ndarray:
    """Garment body polygon (right half mirrored), neck at the origin."""
    neck_w, hem = shape["neck_w"], shape["hem"]
    if tank:
        right = [(neck_w, 0.0), (neck_w + 0.22, 0.0), (0.93, 0.8), (hem, length)]
    else:
        right = [(neck_w, 0.0), (1.0, 0.12), (0.96, 0.72), (hem, length)]
    left = [(-x, y) for x, y in reversed(right)]
    return np.array(right + left)


def _neck_hole(shape: dict) -> np.ndarray:
    w = shape["neck_w"]
    if shape["neck"] == "v":
        return np.array([(-w, -0.05), (w, -0.05), (0.0, 0.75)])
    depth = 0.5 if shape["neck"] == "scoop" else 0.22
    t = np.linspace(0.0, np.pi, 14)  # the lower half: the hole is cut from the top edge
    return np.stack([w * np.cos(t), depth * np.sin(t)], axis=1)


# --------------------------------------------------------------------------
# Pattern field.


@dataclasses.dataclass(frozen=True)
class ShotDetail:
    """Per-image pattern details the other images of a product do not share."""

    period: float
    phase_u: float
    phase_v: float
    logo_xy: tuple[float, float]
    logo_size: float


def _shot_detail(
    spec: ProductSpec, rng: np.random.Generator, amount: float
) -> ShotDetail:
    return ShotDetail(
        period=spec.period * (1.0 + amount * rng.uniform(-0.25, 0.25)),
        phase_u=amount * rng.uniform(0, 1),
        phase_v=amount * rng.uniform(0, 1),
        logo_xy=(
            spec.logo_x + amount * rng.uniform(-0.15, 0.15),
            0.85 + amount * rng.uniform(-0.2, 0.25),
        ),
        logo_size=0.32 * (1.0 + amount * rng.uniform(-0.3, 0.3)),
    )


def _logo_mask(shape: str, u: np.ndarray, v: np.ndarray, r: float) -> np.ndarray:
    if shape == "circle":
        return u * u + v * v < r * r
    if shape == "square":
        return (np.abs(u) < 0.8 * r) & (np.abs(v) < 0.8 * r)
    if shape == "diamond":
        return np.abs(u) + np.abs(v) < r
    if shape == "triangle":
        return (v < 0.7 * r) & (v > -r + 2 * np.abs(u))
    angle = np.arctan2(v, u)  # star: radius modulated five times per turn
    return np.hypot(u, v) < r * (0.62 + 0.38 * np.cos(5 * angle))


def _secondary_mask(spec: ProductSpec, detail: ShotDetail, u, v) -> np.ndarray:
    p = detail.period
    if spec.pattern == "horizontal_stripes":
        return ((v / p + detail.phase_v) % 1.0) < 0.5
    if spec.pattern == "vertical_stripes":
        return ((u / p + detail.phase_u) % 1.0) < 0.5
    if spec.pattern == "dots":
        fu = (u / p + detail.phase_u) % 1.0 - 0.5
        fv = (v / p + detail.phase_v) % 1.0 - 0.5
        return fu * fu + fv * fv < 0.3**2
    if spec.pattern == "checks":
        cells = np.floor(u / p + detail.phase_u) + np.floor(v / p + detail.phase_v)
        return cells % 2 == 0
    if spec.pattern == "logo":
        lx, ly = detail.logo_xy
        return _logo_mask(spec.logo_shape, u - lx, v - ly, detail.logo_size)
    return np.zeros(u.shape, dtype=bool)


def _texture(
    spec: ProductSpec, detail: ShotDetail, transform: Affine, box
) -> np.ndarray:
    """RGB garment texture over ``box``: pattern plus gentle fabric shading."""
    u, v = transform.local_grid(box)
    second = _secondary_mask(spec, detail, u, v)
    rgb = np.where(second[..., None], np.array(spec.secondary), np.array(spec.primary))
    shading = 1.0 - 0.12 * np.clip(np.abs(u) - 0.5, 0, 1) + 0.04 * np.sin(3.0 * v)
    return np.clip(rgb * shading[..., None], 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------
# Drawing the garment.


@dataclasses.dataclass
class Canvas:
    image: Image.Image
    transform: Affine

    def polygon(self, points, fill, outline=None, width=1):
        ImageDraw.Draw(self.image).polygon(
            self.transform.apply(points), fill=fill, outline=outline, width=width
        )

    def line(self, points, fill, width_units: float):
        width = max(1, int(round(width_units * self.transform.scale)))
        ImageDraw.Draw(self.image).line(
            self.transform.apply(points), fill=fill, width=width, joint="curve"
        )

    def dot(self, center, radius_units: float, fill):
        self.polygon(
            _ellipse(center[0], center[1], radius_units, radius_units, 12), fill
        )


def _darker(rgb, factor=0.6) -> tuple[int, int, int]:
    return tuple(int(c * factor) for c in rgb)


def _paint(canvas: Canvas, mask: Image.Image, texture_of) -> None:
    """Pastes the garment texture through ``mask`` (only over its bbox)."""
    box = mask.getbbox()
    if box is None:
        return
    texture = Image.fromarray(texture_of(box))
    canvas.image.paste(texture, box[:2], mask.crop(box))


@dataclasses.dataclass(frozen=True)
class Pose:
    """Where the garment's sleeves go and how long its body is drawn."""

    arms: tuple[tuple[float, float], tuple[float, float]]  # (left, right) angles
    body_length: float
    folded: bool = False


def _sleeve_paths(shape: dict, pose: Pose) -> list[np.ndarray]:
    if shape["sleeve"] <= 0:
        return []
    paths = []
    for side, angles in zip((-1, 1), pose.arms, strict=True):
        length = shape["sleeve"]
        if pose.folded:  # sleeves folded across the front of the body
            length = min(length, 1.3)
            angles = (-45.0, -60.0)
        path = _arm_path(side, angles, 2.3)
        paths.append(_truncate(path, length))
    return paths


def _draw_sleeves(canvas, spec, shape, pose, texture_of):
    outline = _darker(spec.primary, 0.55)
    for path in _sleeve_paths(shape, pose):
        mask = Image.new("L", canvas.image.size, 0)
        Canvas(mask, canvas.transform).line(path, 255, shape["sleeve_w"])
        _paint(canvas, mask, texture_of)
        if spec.category in ("hoodie", "cardigan", "collared_shirt") and len(path) > 2:
            end, before = path[-1], path[-2]
            direction = (end - before) / max(np.linalg.norm(end - before), 1e-9)
            canvas.line([end - 0.16 * direction, end], outline, shape["sleeve_w"])


def _draw_body(canvas, spec, shape, pose, texture_of, inside_color):
    tank = spec.category == "tank_top"
    outline = _darker(spec.primary, 0.55)
    if spec.category == "hoodie":  # the hood lies behind the neck
        canvas.polygon(_ellipse(0.0, -0.28, 0.62, 0.45), _darker(spec.primary, 0.8))
    body = _body_outline(shape, pose.body_length, tank)
    mask = Image.new("L", canvas.image.size, 0)
    Canvas(mask, canvas.transform).polygon(body, 255)
    _paint(canvas, mask, texture_of)
    canvas.polygon(
        body, None, outline=outline, width=max(1, int(canvas.transform.scale * 0.04))
    )
    canvas.polygon(_neck_hole(shape), inside_color)
    _draw_details(canvas, spec, shape, pose, outline)


def _draw_details(canvas, spec, shape, pose, outline):
    length = pose.body_length
    if spec.category == "hoodie":
        canvas.polygon(
            [
                (-0.55, length - 0.75),
                (0.55, length - 0.75),
                (0.7, length - 0.12),
                (-0.7, length - 0.12),
            ],
            None,
            outline=outline,
            width=2,
        )
        canvas.line([(-0.15, 0.15), (-0.18, 0.75)], (235, 235, 235), 0.05)
        canvas.line([(0.15, 0.15), (0.18, 0.75)], (235, 235, 235), 0.05)
    if spec.category in ("hoodie", "cardigan"):  # ribbed hem band
        band = [
            (-shape["hem"], length - 0.18),
            (shape["hem"], length - 0.18),
            (shape["hem"], length),
            (-shape["hem"], length),
        ]
        canvas.polygon(band, _darker(spec.primary, 0.75))
    if spec.category == "collared_shirt":
        w = shape["neck_w"]
        for side in (-1, 1):
            collar = [
                (side * 0.02, 0.05),
                (side * (w + 0.12), -0.08),
                (side * (w + 0.22), 0.4),
            ]
            canvas.polygon(
                collar, _darker(spec.primary, 0.88), outline=outline, width=1
            )
    if spec.category in ("collared_shirt", "cardigan"):
        top = 0.75 if spec.category == "cardigan" else 0.4
        canvas.line([(0.0, top), (0.0, length)], outline, 0.035)
        for y in np.linspace(top + 0.2, length - 0.3, 5):
            canvas.dot((0.07, y), 0.045, _darker(spec.primary, 0.4))
    if pose.folded:
        canvas.line(
            [(-shape["hem"], length - 0.05), (shape["hem"], length - 0.05)],
            outline,
            0.05,
        )


# --------------------------------------------------------------------------
# Product shots.


def _garment_bounds(shape: dict, pose: Pose, angle: float) -> np.ndarray:
    """(min, max) of the garment's rotated points, in local units."""
    points = [
        _body_outline(shape, pose.body_length, False),
        _ellipse(0, -0.28, 0.62, 0.45),
    ]
    for path in _sleeve_paths(shape, pose):
        points.append(path + [shape["sleeve_w"] / 2, 0])
        points.append(path - [shape["sleeve_w"] / 2, 0])
    points = np.concatenate(points)
    unit = Affine(1.0, angle, (0.0, 0.0)).apply(points)
    return np.array([np.min(unit, axis=0), np.max(unit, axis=0)])


def render_product_image(
    spec: ProductSpec, rng: np.random.Generator, variation: Variation
) -> Image.Image:
    """One product shot: the garment on a white background."""
    width = int(rng.integers(220, 321))
    height = int(round(width * rng.uniform(*variation.aspect)))
    presentation = rng.choice(3, p=variation.presentations)
    shape = _SHAPES[spec.category]
    jitter = variation.sleeve
    if presentation == 1:  # hanging: sleeves fall
        base = (10.0 + 12 * jitter * rng.random(), 6.0 + 10 * jitter * rng.random())
    else:
        base = (
            32.0 + 28 * jitter * rng.uniform(-1, 1),
            30.0 + 25 * jitter * rng.uniform(-1, 1),
        )
    arms = (
        base,
        (
            base[0] + 8 * jitter * rng.uniform(-1, 1),
            base[1] + 8 * jitter * rng.uniform(-1, 1),
        ),
    )
    pose = Pose(
        arms=arms,
        body_length=shape["length"] * (0.62 if presentation == 2 else 1.0),
        folded=presentation == 2,
    )
    angle = variation.rotation * rng.uniform(-1, 1)
    lo, hi = _garment_bounds(shape, pose, angle)
    extent = hi - lo
    scale = rng.uniform(*variation.scale) * max(width, height) / extent.max()
    scale = min(scale, 0.98 * min(width / extent[0], height / extent[1]))
    free = np.array([width, height]) - extent * scale
    shift = free / 2 + variation.offset * rng.uniform(-0.5, 0.5, size=2) * free
    origin = shift - lo * scale
    transform = Affine(scale, angle, (float(origin[0]), float(origin[1])))

    image = Image.new("RGB", (width, height), (255, 255, 255))
    canvas = Canvas(image, transform)
    detail = _shot_detail(spec, rng, variation.detail)

    def texture_of(box):
        return _texture(spec, detail, transform, box)

    if rng.random() < variation.shadow:
        _draw_shadow(image, spec, shape, pose, transform, rng)
    if presentation == 1:
        _draw_hanger(canvas)
    inside = _darker(spec.primary, 0.7)
    if pose.folded:
        _draw_body(canvas, spec, shape, pose, texture_of, inside)
        _draw_sleeves(canvas, spec, shape, pose, texture_of)
    else:
        _draw_sleeves(canvas, spec, shape, pose, texture_of)
        _draw_body(canvas, spec, shape, pose, texture_of, inside)
    return image


def _draw_shadow(image, spec, shape, pose, transform, rng):
    mask = Image.new("L", image.size, 0)
    canvas = Canvas(mask, transform)
    canvas.polygon(_body_outline(shape, pose.body_length, False), 90)
    for path in _sleeve_paths(shape, pose):
        canvas.line(path, 90, shape["sleeve_w"])
    offset = (int(rng.integers(2, 9)), int(rng.integers(2, 9)))
    mask = mask.transform(mask.size, Image.AFFINE, (1, 0, -offset[0], 0, 1, -offset[1]))
    mask = mask.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(3, 7))))
    image.paste((120, 120, 120), (0, 0), mask)


def _draw_hanger(canvas: Canvas):
    grey = (110, 110, 115)
    canvas.line([(-0.95, 0.15), (0.0, -0.45), (0.95, 0.15)], grey, 0.07)
    canvas.line(
        [(0.0, -0.45), (0.0, -0.7), (0.12, -0.85), (0.0, -0.98), (-0.1, -0.88)],
        grey,
        0.05,
    )


# --------------------------------------------------------------------------
# Photos of a person wearing the product.

_SKIN = (
    (255, 224, 196),
    (234, 192, 160),
    (198, 146, 110),
    (160, 110, 75),
    (110, 72, 48),
    (80, 52, 36),
)
_HAIR = (
    (30, 25, 20),
    (80, 50, 30),
    (150, 100, 50),
    (220, 190, 120),
    (120, 120, 120),
    (160, 50, 30),
)
_BOTTOMS = (
    (30, 40, 80),
    (40, 40, 45),
    (90, 110, 150),
    (190, 180, 150),
    (120, 90, 60),
    (230, 230, 225),
    (70, 90, 60),
    (150, 40, 50),
)


def _background(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    kind = rng.choice(
        ["studio", "flat", "gradient", "texture", "clutter"],
        p=[0.3, 0.15, 0.2, 0.15, 0.2],
    )
    base = rng.integers(60, 245, size=3)
    if kind == "studio":
        base = np.full(3, rng.integers(215, 256)) + rng.integers(-8, 8, size=3)
    if kind == "gradient":
        other = rng.integers(40, 250, size=3)
        t = np.linspace(0, 1, height)[:, None, None]
        pixels = base * (1 - t) + other * t
        return Image.fromarray(
            np.broadcast_to(pixels, (height, width, 3)).astype(np.uint8)
        )
    if kind == "texture":
        noise = rng.normal(
            0, rng.uniform(8, 30), size=(height // 4 + 1, width // 4 + 1, 1)
        )
        stripes = 12 * np.sin(np.arange(width) / rng.uniform(3, 12))[None, :, None]
        small = Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))
        pixels = (
            np.asarray(small.resize((width, height), Image.BILINEAR), np.float64)
            + stripes
        )
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    image = Image.new(
        "RGB", (width, height), tuple(int(c) for c in np.clip(base, 0, 255))
    )
    if kind == "clutter":
        draw = ImageDraw.Draw(image)
        for _ in range(int(rng.integers(5, 16))):
            x0, y0 = rng.integers(0, width), rng.integers(0, height)
            x1, y1 = (
                x0 + rng.integers(10, width // 2),
                y0 + rng.integers(10, height // 2),
            )
            color = tuple(int(c) for c in rng.integers(0, 256, size=3))
            (draw.rectangle if rng.random() < 0.5 else draw.ellipse)(
                [x0, y0, x1, y1], fill=color
            )
    return image


def render_photo(spec: ProductSpec, rng: np.random.Generator) -> Image.Image:
    """One photo of a person wearing the product, in a random pose and scene."""
    width = int(rng.integers(180, 301))
    height = int(round(width * rng.uniform(1.25, 1.6)))
    image = _background(rng, width, height)
    shape = _SHAPES[spec.category]
    skin = shade(_SKIN[rng.integers(len(_SKIN))], rng, 0.5)
    hair = _HAIR[rng.integers(len(_HAIR))]
    bottoms = shade(_BOTTOMS[rng.integers(len(_BOTTOMS))], rng, 1.0)

    # The figure spans local y from -1.85 (top of the head) to 6.0 (shoes).
    figure = rng.uniform(0.8, 1.45) * height
    scale = figure / 7.85 * rng.uniform(0.9, 1.1)
    top = rng.uniform(0.02, 0.08) * height
    cx = width / 2 + rng.uniform(-0.15, 0.15) * width
    transform = Affine(scale, rng.uniform(-7, 7), (cx, top + 1.85 * scale))
    canvas = Canvas(image, transform)

    arm_cross = rng.random() < 0.15
    arms = []
    for side in (-1, 1):
        upper = rng.uniform(6, 40)
        fore = upper + rng.uniform(-10, 35)
        if arm_cross and side == 1:
            upper, fore = rng.uniform(5, 15), -95.0
        arms.append((float(upper), float(fore)))
    pose = Pose(arms=tuple(arms), body_length=shape["length"])
    long_hair = rng.random() < 0.35
    detail = _shot_detail(spec, rng, 1.0)

    def texture_of(box):
        return _texture(spec, detail, transform, box)

    if long_hair:
        canvas.polygon(_ellipse(0.0, -0.5, 0.78, 1.25), hair)
    _draw_legs(canvas, rng, bottoms, skin)
    canvas.polygon(_body_outline(shape, pose.body_length, False), skin)  # bare torso
    _draw_body(canvas, spec, shape, pose, texture_of, skin)
    for side, angles in zip((-1, 1), pose.arms, strict=True):
        path = _arm_path(side, angles, 2.3)
        canvas.line(path, skin, 0.3)
        canvas.dot(path[-1], 0.19, skin)
    _draw_sleeves(canvas, spec, shape, pose, texture_of)
    canvas.polygon(
        [(-0.2, -0.55), (0.2, -0.55), (0.2, 0.06), (-0.2, 0.06)], skin
    )  # neck
    canvas.polygon(_ellipse(0.0, -1.15, 0.5, 0.66), skin)  # head
    canvas.polygon(_ellipse(0.0, -1.5, 0.54, 0.36), hair)
    if long_hair and rng.random() < 0.5:  # a lock over one shoulder
        side = rng.choice([-1, 1])
        canvas.polygon(
            [
                (side * 0.4, -1.3),
                (side * 0.62, -1.2),
                (side * 0.75, 0.8),
                (side * 0.35, 0.6),
            ],
            hair,
        )
    if rng.random() < 0.2:
        _draw_bag(canvas, rng)
    image = _light(image, rng)
    if rng.random() < 0.5:
        image = image.transpose(Image.FLIP_LEFT_RIGHT)
    return image


def _draw_legs(canvas: Canvas, rng, bottoms, skin):
    shoes = tuple(int(c) for c in rng.integers(0, 200, size=3))
    if rng.random() < 0.3:  # skirt and bare legs
        canvas.polygon([(-0.32, 3.4), (-0.12, 3.4), (-0.14, 5.6), (-0.3, 5.6)], skin)
        canvas.polygon([(0.12, 3.4), (0.32, 3.4), (0.3, 5.6), (0.14, 5.6)], skin)
        canvas.polygon([(-0.85, 2.0), (0.85, 2.0), (1.2, 3.7), (-1.2, 3.7)], bottoms)
    else:
        canvas.polygon(
            [
                (-0.85, 2.0),
                (0.85, 2.0),
                (0.62, 5.6),
                (0.08, 5.6),
                (0.0, 3.0),
                (-0.08, 5.6),
                (-0.62, 5.6),
            ],
            bottoms,
        )
    for side in (-1, 1):
        canvas.polygon(_ellipse(side * 0.34, 5.75, 0.3, 0.15), shoes)


def _draw_bag(canvas: Canvas, rng):
    color = tuple(int(c) for c in rng.integers(20, 230, size=3))
    side = rng.choice([-1, 1])
    canvas.line([(-side * 0.5, 0.05), (side * 0.9, 1.9)], _darker(color, 0.7), 0.07)
    x = side * 1.0
    canvas.polygon(
        [(x - 0.5, 1.7), (x + 0.5, 1.7), (x + 0.55, 2.6), (x - 0.55, 2.6)], color
    )


def _light(image: Image.Image, rng) -> Image.Image:
    """Exposure, colour cast and sensor noise."""
    gains = rng.uniform(0.8, 1.15) * rng.uniform(0.9, 1.1, size=3)
    pixels = np.asarray(image, np.float32) * gains
    pixels += rng.normal(0, rng.uniform(0, 5), size=pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
