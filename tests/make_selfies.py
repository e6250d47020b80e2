"""Draw the sandbox's sample selfies; run by hand with Pillow installed, not by the tests."""

from pathlib import Path

from PIL import Image, ImageDraw

SELFIES_DIR = Path(__file__).resolve().parent.parent / "nine_pic_async" / "testing" / "selfies"
SIZE = 160


def draw_face(
    draw: ImageDraw.ImageDraw,
    center: tuple[int, int],
    radius: int,
    skin: tuple[int, int, int],
    hair: tuple[int, int, int],
) -> None:
    x, y = center
    draw.ellipse((x - radius, y - radius - radius // 3, x + radius, y + radius // 2), fill=hair)
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=skin)
    eye = max(radius // 6, 1)
    for dx in (-radius // 3, radius // 3):
        draw.ellipse(
            (x + dx - eye, y - radius // 4 - eye, x + dx + eye, y - radius // 4 + eye), fill="black"
        )
    draw.arc(
        (x - radius // 2, y, x + radius // 2, y + radius // 2),
        start=20,
        end=160,
        fill="black",
        width=max(radius // 12, 1),
    )


def make_runner() -> Image.Image:
    image = Image.new("RGB", (SIZE, SIZE), (70, 130, 180))
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 130, 130, SIZE), fill=(220, 40, 40))
    draw.text((62, 138), "1234", fill="white")
    draw_face(draw, (80, 75), 45, (224, 172, 105), (60, 40, 20))
    return image


def make_cyclist() -> Image.Image:
    image = Image.new("RGB", (SIZE, SIZE), (250, 250, 240))
    draw = ImageDraw.Draw(image)
    draw_face(draw, (80, 85), 42, (141, 85, 36), (20, 20, 20))
    draw.pieslice((30, 20, 130, 110), start=180, end=360, fill=(255, 200, 0))
    return image


def make_crowd() -> Image.Image:
    image = Image.new("RGB", (SIZE, SIZE), (120, 180, 90))
    draw = ImageDraw.Draw(image)
    skins = [(255, 219, 172), (198, 134, 66), (141, 85, 36), (241, 194, 125)]
    hairs = [(40, 30, 20), (200, 160, 60), (90, 50, 20), (10, 10, 10)]
    for row in range(3):
        for column in range(4):
            index = row * 4 + column
            center = (22 + column * 39, 30 + row * 50)
            draw_face(draw, center, 16, skins[index % 4], hairs[(index + row) % 4])
    return image


def make_stranger() -> Image.Image:
    image = Image.new("RGB", (SIZE, SIZE), (90, 60, 120))
    draw = ImageDraw.Draw(image)
    draw_face(draw, (80, 90), 40, (255, 224, 189), (150, 150, 150))
    draw.rectangle((40, 30, 120, 50), fill=(30, 30, 30))
    draw.rectangle((55, 5, 105, 35), fill=(30, 30, 30))
    return image


def main() -> None:
    SELFIES_DIR.mkdir(parents=True, exist_ok=True)
    make_runner().save(SELFIES_DIR / "runner.jpg", "JPEG", quality=85)
    make_cyclist().save(SELFIES_DIR / "cyclist.png", "PNG", optimize=True)
    make_crowd().save(SELFIES_DIR / "crowd.jpg", "JPEG", quality=85)
    make_stranger().save(SELFIES_DIR / "stranger.png", "PNG", optimize=True)


if __name__ == "__main__":
    main()
