"""OCR of scanned pages and report images (rapidocr-onnxruntime: PP-OCR Chinese detection and
recognition models shipped inside the wheel, run by onnxruntime on the CPU; nothing is downloaded).

A page image gives two things to ``layout``, the same as a PDF text layer does: the recognised text
boxes (split into one piece per character with the recogniser's own character positions, so a box
that runs over a cell border is cut at the border) with their confidence, and the ruling lines found
in the image (long horizontal and vertical runs of dark pixels). The grid is then built exactly as for
a PDF with a text layer.

Confidence: every piece keeps the recogniser's score; a cell's locator carries the lowest score in it
(``, ocr 0.87``), and a table value whose score is below ``MIN_CONFIDENCE`` is a parse warning
(``ocr_low_confidence``), never a silent value. The report's identities (row totals, balances) are
checked downstream like any other report's and catch most misread digits.

``OGI_OCR=0`` turns OCR off: a PDF without a text layer and a report image are then quarantined with
that reason. Caps: ``MAX_OCR_PAGES`` pages a document, ``MAX_PIXELS`` an image (larger ones are
scaled down), and the document's time limit.
"""

from __future__ import annotations

import copy
import io
import os
import sys
import threading
import time
from collections.abc import Callable

import numpy as np

from ingest.frontends.layout import Rulings, Units, find_tables, page_blocks
from ingest.frontends.rows import Block

# Below this recognition score a cell's value is not trusted without a warning. Measured on image-only
# copies of the three real PDFs (578 numeric cells, every one read right): lone digits often score
# 0.6-0.9 (a "0" shares its shape with O, o and 〇), 151 cells are below 0.9 and about ten below 0.5;
# the misreads seen while tuning (53 read as 89, 0 as o) scored 0.30-0.48. 0.5 flags those without
# making every scanned report partial; the identities check the rest.
MIN_CONFIDENCE = 0.50
MAX_OCR_PAGES = 60
MAX_PIXELS = 4096 * 4096  # a decoded image (a decompression bomb is refused before decoding)
RENDER_SCALE = 2.0  # 144 dpi: small table digits are read reliably, ~4 s a page on one core
MAX_RENDER_SIDE = 3000  # pixels; a huge page box is rendered smaller
MAX_CELL_CROPS = 600  # empty-looking table boxes re-read one by one on a page

_engine = None
_lock = threading.Lock()


# Set by the reader's budgeted worker process: called before each page is recognised, so that the
# worker can extend the file's time budget by a page's and give onnxruntime its address space.
page_hook: Callable[[], None] | None = None


def _page_starts() -> None:
    if page_hook is not None:
        page_hook()


def progress(line: str) -> None:
    """One line a recognised page (seconds each) on stderr, from whichever process reads the file (the
    reader's workers included), so a long scan shows it is moving; ``OGI_OCR_PROGRESS=0`` silences it."""
    if os.environ.get("OGI_OCR_PROGRESS", "1") != "0":
        print(f"OCR: {line}", file=sys.stderr, flush=True)


def enabled() -> bool:
    return os.environ.get("OGI_OCR", "1").strip().lower() not in ("0", "false", "no", "off")


# Cores this process may give OCR. The reader's worker sets it to its share of the machine (all cores
# when it is the only worker: in a small run the scan is what everything else waits for; one when every
# core has its own worker). ``OGI_OCR_THREADS`` overrides it.
threads: int | None = None


def ocr_threads() -> int:
    env = os.environ.get("OGI_OCR_THREADS", "").strip()
    if env:
        return max(1, int(env))
    return max(1, threads if threads is not None else (os.cpu_count() or 1))


def engine():
    """One recogniser per process (the models load in ~1 s), using ``ocr_threads()`` cores: the
    detector through onnxruntime's own threads, the recogniser as one text line per thread (below)."""
    global _engine
    with _lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR

            eng = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, print_verbose=False)
            n = ocr_threads()
            # the detector's tensors are tens of MB a page: in onnxruntime's arena they are allocated
            # once, not mapped and faulted in afresh every page (~0.2 s of system time a page, ~0.7 s
            # on the first)
            eng.text_det.infer.session = _session("Det", n, arena=True)
            eng.text_det.get_preprocess = _DetInput
            # the recogniser's too (a few MB a line, one line after another on each thread)
            eng.text_rec.session.session = _session("Rec", 1, arena=True)
            eng.text_rec = _LineRecogniser(eng.text_rec, n)
            _engine = eng
        return _engine


def _session(module: str, n: int, arena: bool = False):
    """rapidocr's model for ``module`` in a session with ``n`` intra-op threads that sleep rather than
    spin when idle (a spinning pool burns the cores the rest of the run and the other workers need)."""
    import onnxruntime as ort
    from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH
    from rapidocr_onnxruntime.utils import read_yaml, update_model_path

    model_path = update_model_path(read_yaml(DEFAULT_CFG_PATH))[module]["model_path"]

    opts = ort.SessionOptions()
    opts.log_severity_level = 4
    opts.enable_cpu_mem_arena = arena
    # with the arena, each tensor takes a block the arena already holds; a memory pattern (one block
    # planned for the whole run) would be one more block beside them (measured on the detector: 0.5 GB
    # more address space, 0.2 GB more resident)
    opts.enable_mem_pattern = not arena
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = n
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # the arena grows by what is asked for, not to the next power of two (the worker's address space is
    # capped)
    provider = ("CPUExecutionProvider", {"arena_extend_strategy": "kSameAsRequested"})
    return ort.InferenceSession(str(model_path), sess_options=opts, providers=[provider])


class _DetInput:
    """rapidocr's detector input (its resize, then (v / 255 - 0.5) / 0.5), bit for bit, but computed in
    float32: rapidocr subtracts float64 means and so builds two float64 copies of the page (48 MB each
    at RENDER_SCALE), ~0.3 s on the first page and ~0.06 s a page after. The same numbers: v / 255 is
    float32 in both, and subtracting 0.5 and dividing by 0.5 round the same in float32 as the exact
    float64 result does when it is cast down."""

    def __init__(self, _max_wh: int) -> None:
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

        self.pre = DetPreProcess(736, "min")  # rapidocr's Det limit_side_len / limit_type (its config)

    def __call__(self, img: np.ndarray) -> np.ndarray | None:
        resized = self.pre.resize(img)
        if resized is None:
            return None
        x = resized.astype(np.float32) * self.pre.scale
        x -= np.float32(0.5)
        x /= np.float32(0.5)
        return np.ascontiguousarray(x.transpose(2, 0, 1)[np.newaxis])


class _LineRecogniser:
    """rapidocr's recogniser, run one text line at a time, ``n`` lines at once on threads.

    rapidocr sorts the lines by width and runs them six at a time, each padded to the widest of its six
    (at least 320 x 48 pixels). Every line here gets exactly that input (the same padding), so the text,
    the scores and the character positions are the ones the batched run gives (onnxruntime computes
    each image of a batch on its own); run alone a line is also cheaper (measured: ~20% less CPU, the
    activations of one line stay in cache) and the lines spread over the cores. Padding a short line
    less would be faster still but changes what the model reads: lone 0s came back as o or 。. Padding
    each line to its own width only (~9% less recogniser time) changed four readings on the real PDFs'
    image-only copies, three for the better and one for the worse (``）`` read as ``)``), so it is not
    done. A crop identical to another of the same call with the same padding (a digit repeated down a
    column, pixel for pixel: ~4% of the lines) is read once: the same input, the same result."""

    def __init__(self, rec, n: int) -> None:
        self.rec, self.n = rec, n
        self._pool = None

    def __call__(self, img_list, return_word_box: bool = False):
        rec = self.rec
        if isinstance(img_list, np.ndarray):
            img_list = [img_list]
        ratios = [img.shape[1] / float(img.shape[0]) for img in img_list]
        order = np.argsort(np.array(ratios))  # rapidocr's order, so the groups of six are its own
        _, img_h, img_w = rec.rec_image_shape[:3]
        padded_to = [0.0] * len(img_list)
        for beg in range(0, len(img_list), rec.rec_batch_num):
            group = order[beg:beg + rec.rec_batch_num]
            widest = max([img_w / img_h] + [ratios[i] for i in group])
            for i in group:
                padded_to[i] = widest
        first: dict[tuple, int] = {}
        same_as = [first.setdefault((padded_to[i], img.shape, img.dtype.str, img.tobytes()), i)
                   for i, img in enumerate(img_list)]

        def one(i: int):
            batch = rec.resize_norm_img(img_list[i], padded_to[i])[np.newaxis].astype(np.float32)
            preds = rec.session(batch)[0]
            return rec.postprocess_op(preds, return_word_box, wh_ratio_list=[ratios[i]],
                                      max_wh_ratio=padded_to[i])[0]

        started = time.monotonic()
        # widest first, so that no thread is left with a long line at the end
        todo = sorted((i for i in range(len(img_list)) if same_as[i] == i), key=lambda i: -padded_to[i])
        if self.n > 1 and len(todo) > 1:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(self.n, thread_name_prefix="ocr-rec")
            done = dict(zip(todo, self._pool.map(one, todo)))
        else:
            done = {i: one(i) for i in todo}
        # a repeated crop gets its own copy of the result: no two lines share one object
        out = [done[i] if same_as[i] == i else copy.deepcopy(done[same_as[i]]) for i in range(len(img_list))]
        return out, time.monotonic() - started


def recognise(img: np.ndarray, scale: float = 1.0) -> Units:
    """An RGB/BGR or grey image (H x W [x 3], uint8) -> one piece per recognised character, in the
    image's pixels divided by ``scale`` (PDF points for a rendered page)."""
    eng = engine()
    # text_score low: a faint character is kept with its low score (and flagged) rather than dropped,
    # which would turn a printed value into a blank cell silently
    # no angle classifier: it turns a lone "9" upside down into a "6" (seen on the real reports), and a
    # report page is upright
    result, _ = eng(img, use_cls=False, return_word_box=True, text_score=0.3)
    text, x0, top, x1, bottom, conf = [], [], [], [], [], []
    for item in result or []:
        box, s, score = item[0], item[1], float(item[2])
        s2, score = _as_number(s, score)
        if s2 != s:
            s, item = s2, item[:3]  # the word boxes spell the letters: spread the digits instead
        words = item[3] if len(item) > 3 else None
        pts = np.asarray(box, float)
        bx0, by0, bx1, by1 = pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()
        pieces = _char_boxes(s, words, bx0, bx1)
        for ch, cx0, cx1 in pieces:
            if not ch.strip():
                continue
            text.append(ch)
            x0.append(cx0 / scale)
            x1.append(cx1 / scale)
            top.append(by0 / scale)
            bottom.append(by1 / scale)
            conf.append(score)
    return Units(text, np.array(x0), np.array(top), np.array(x1), np.array(bottom), np.array(conf))


def read_page_image(img: np.ndarray, scale: float = 1.0) -> tuple[Units, Rulings]:
    """A page picture -> (pieces, ruling lines), in pixels / ``scale``. The detector misses small lone
    marks (a single ``0`` in a wide box): every table box it left empty but that holds ink is cut out
    and read again by the recogniser alone, so a printed value never becomes a silent blank."""
    units = recognise(img, scale)
    rulings = rulings_from_image(img, scale)
    return _reread_empty_boxes(img, units, rulings, scale), rulings


def _reread_empty_boxes(img: np.ndarray, u: Units, rulings: Rulings, scale: float) -> Units:
    # ink: a grey level below 128. For a colour page, the mean of the three channels truncated to an
    # integer is below 128 exactly when their sum is below 384: an integer sum instead of a float64 copy
    # of the page (48 MB at RENDER_SCALE), and only once a box needs looking at
    sums = None
    dark = 128 if img.ndim == 2 else 3 * 128
    cx, cy = (u.x0 + u.x1) / 2, (u.top + u.bottom) / 2
    crops, where = [], []
    margin = max(3, int(round(2 * scale)))  # keep the borders out of the box
    for t in find_tables(rulings):
        for g in np.unique(t.region):
            rr, cc = np.nonzero(t.region == g)
            x0, x1 = t.xs[cc.min()], t.xs[cc.max() + 1]
            y0, y1 = t.ys[rr.min()], t.ys[rr.max() + 1]
            if ((cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)).any():
                continue
            px0, px1 = int(x0 * scale) + margin, int(x1 * scale) - margin
            py0, py1 = int(y0 * scale) + margin, int(y1 * scale) - margin
            if px1 - px0 < 4 or py1 - py0 < 4:
                continue
            if sums is None:
                sums = img if img.ndim == 2 else img.sum(axis=2, dtype=np.uint16)
            ink = sums[py0:py1, px0:px1] < dark
            if ink.sum() < 6:
                continue  # a blank box
            ys_, xs_ = np.nonzero(ink)
            pad = 4
            qx0, qx1 = max(px0, px0 + xs_.min() - pad), min(px1, px0 + xs_.max() + 1 + pad)
            qy0, qy1 = max(py0, py0 + ys_.min() - pad), min(py1, py0 + ys_.max() + 1 + pad)
            crop = img[qy0:qy1, qx0:qx1]
            if crop.ndim == 2:
                crop = np.repeat(crop[:, :, None], 3, axis=2)
            crops.append(np.ascontiguousarray(crop))
            where.append((qx0, qy0, qx1, qy1))
            if len(crops) >= MAX_CELL_CROPS:
                break
    if not crops:
        return u
    rec, _ = engine().text_rec(crops, False)
    text, x0, top, x1, bottom, conf = list(u.text), [u.x0], [u.top], [u.x1], [u.bottom], [u.conf]
    for (qx0, qy0, qx1, qy1), res in zip(where, rec):
        s, score = _as_number(res[0], float(res[1]))
        pieces = _spread(s, qx0, qx1)
        if not pieces:
            continue
        text.extend(c for c, _, _ in pieces)
        x0.append(np.array([a for _, a, _ in pieces]) / scale)
        x1.append(np.array([b for _, _, b in pieces]) / scale)
        top.append(np.full(len(pieces), qy0 / scale))
        bottom.append(np.full(len(pieces), qy1 / scale))
        conf.append(np.full(len(pieces), score))
    return Units(text, np.concatenate(x0), np.concatenate(top), np.concatenate(x1), np.concatenate(bottom),
                 np.concatenate(conf))


# shapes the recogniser reads in place of digits: a small 0 as 。, 〇 or O; a 1 as I, l or |
_CONFUSABLE = str.maketrans({"O": "0", "o": "0", "。": "0", "〇": "0", "○": "0", "I": "1", "l": "1", "|": "1"})
_CONFUSABLE_CHARS = "Oo。〇○Il|"


def _as_number(s: str, score: float) -> tuple[str, float]:
    """A recognised box that is a number but for shapes the recogniser confuses with digits (``O`` or
    ``。`` for 0, ``I``/``l`` for 1) reads as that number, with its confidence capped below ``MIN_CONFIDENCE``:
    the value is kept and warned about, never silently trusted."""
    t = s.strip()
    if t and any(c in _CONFUSABLE_CHARS for c in t) and all(c.isdigit() or c in _CONFUSABLE_CHARS + ".," for c in t):
        return t.translate(_CONFUSABLE), min(score, MIN_CONFIDENCE - 0.01)
    return s, score


def _char_boxes(s: str, words, bx0: float, bx1: float) -> list[tuple[str, float, float]]:
    """Characters of one recognised line with their x extent: from the recogniser's word boxes when it
    gives them for every character, else spread evenly over the line's box."""
    if words:
        try:
            out = []
            for w in words:
                wtext, wbox = w[0], np.asarray(w[1], float)
                wx0, wx1 = wbox[:, 0].min(), wbox[:, 0].max()
                out.extend(_spread(wtext, wx0, wx1))
            if "".join(c for c, _, _ in out) == s.replace(" ", ""):
                return out
        except (TypeError, ValueError, IndexError):
            pass
    return _spread(s, bx0, bx1)


def _spread(s: str, x0: float, x1: float) -> list[tuple[str, float, float]]:
    chars = [c for c in s if not c.isspace()]
    if not chars:
        return []
    # CJK characters are about twice as wide as digits and Latin letters
    weights = np.array([2.0 if ord(c) > 0x2E80 else 1.0 for c in chars])
    edges = x0 + (x1 - x0) * np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
    return [(c, float(edges[i]), float(edges[i + 1])) for i, c in enumerate(chars)]


def rulings_from_image(img: np.ndarray, scale: float = 1.0) -> Rulings:
    """Long horizontal and vertical runs of dark pixels (table borders), as line segments."""
    import cv2

    grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    binary = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 15, 10)
    hgt, wid = binary.shape
    out = []
    for horizontal in (True, False):
        length = max(20, (wid if horizontal else hgt) // 40)
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1) if horizontal else (1, length))
        lines = cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel)
        n, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
        segs = []
        for x, y, w, h, _area in stats[1:n]:
            if horizontal and w >= length and h <= 8:
                segs.append(((y + h / 2) / scale, x / scale, (x + w) / scale))
            elif not horizontal and h >= length and w <= 8:
                segs.append(((x + w / 2) / scale, y / scale, (y + h) / scale))
        out.append(np.array(segs, float).reshape(-1, 3))
    return Rulings(out[0], out[1])


def read_pdf_page(page, deadline: float | None = None) -> tuple[Units, Rulings]:
    """A PDF page rendered and read by OCR, in PDF points (top-left origin)."""
    if deadline is not None and time.monotonic() > deadline:
        return Units([], *(np.zeros(0),) * 4, conf=np.zeros(0)), Rulings()
    _page_starts()
    w, h = page.get_size()
    scale = min(RENDER_SCALE, MAX_RENDER_SIDE / max(w, h, 1.0))
    started = time.monotonic()
    bitmap = page.render(scale=scale, grayscale=False)
    img = bitmap.to_numpy()
    if img.ndim == 3 and img.shape[2] == 4:
        img = np.ascontiguousarray(img[:, :, :3])
    units, rulings = read_page_image(img, scale)
    progress(f"pdf page read in {time.monotonic() - started:.1f} s ({len(units)} characters)")
    return units, rulings


def read_image(data: bytes) -> tuple[list[Block] | None, str | None]:
    """A report image (PNG, JPEG, TIFF; every frame of a multi-page TIFF) -> blocks, one page a frame."""
    if not enabled():
        return None, "image: a picture of a report needs OCR, which is off (OGI_OCR=0): quarantined"
    from PIL import Image, ImageSequence

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        im = Image.open(io.BytesIO(data))
        frames = []
        for k, frame in enumerate(ImageSequence.Iterator(im)):
            if k >= MAX_OCR_PAGES:
                break
            f = frame.convert("RGB")
            if f.width * f.height > MAX_PIXELS:
                return None, f"image is {f.width}x{f.height} pixels, above the {MAX_PIXELS}-pixel cap"
            frames.append(np.asarray(f))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        return None, f"image refused: {e}"[:300]
    except Exception as e:  # a truncated or corrupt image
        return None, f"image could not be decoded: {type(e).__name__}: {e}"[:300]
    blocks: list[Block] = []
    table_no = [0]
    for pno, img in enumerate(frames, start=1):
        # a phone photo or a 300-dpi scan is far larger than OCR needs: scale the long side to ~2000 px
        scale = min(1.0, 2400 / max(img.shape[:2]))
        if scale < 1.0:
            import cv2

            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        _page_starts()
        started = time.monotonic()
        blocks.extend(page_blocks(*read_page_image(img), pno, table_no))
        progress(f"image page {pno}/{len(frames)} read in {time.monotonic() - started:.1f} s")
    if not any(b.cells and any(c.strip() for c in b.cells) for b in blocks):
        return None, "image: no text recognised (OCR found nothing to read)"
    return blocks, None
