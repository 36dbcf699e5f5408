"""The learned codec's bitstream (aeutils.codec) and the JPEG/WebP baselines (aeutils.baseline_codecs)."""

import numpy as np
import pytest

from aeutils import baseline_codecs as bc
from aeutils import codec


def _tables(dims=6, width=9, seed=0):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(width) * 0.5, size=dims)
    return codec.FactorizedTables(np.arange(dims, dtype=np.int32) - 4, probs)


def _symbols(tables, n=50, seed=1):
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(tables.probs.shape[1], n, p=p) for p in tables.probs], axis=1) + tables.offsets


def test_symbols_round_trip_exactly_and_bytes_are_the_strings_length():
    tables = _tables()
    symbols = _symbols(tables)
    blob = codec.encode_symbols(symbols, tables)
    assert isinstance(blob, bytes)
    np.testing.assert_array_equal(codec.decode_symbols(blob, tables), symbols)
    records = codec.image_records(blob)
    assert len(records) == len(symbols)
    assert len(blob) == codec.HEADER_BYTES + sum(len(r) for r in records)
    assert all(len(r) == 1 + 4 * r[0] for r in records)  # a word count, then that many 32-bit words


def test_code_length_is_close_to_the_ideal_bits():
    """A range coder spends the ideal -log2 P plus at most a few bytes per image (the word rounding and the flush)."""
    tables = _tables(dims=40)
    symbols = _symbols(tables, n=200)
    records = codec.image_records(codec.encode_symbols(symbols, tables))
    ideal = tables.bits(symbols) / 8
    real = np.array([len(r) for r in records])
    assert (real >= ideal).all() and (real - ideal).max() <= 1 + 8


def test_header_holds_magic_version_fingerprint_and_count():
    tables = _tables()
    blob = codec.encode_symbols(_symbols(tables, n=3), tables)
    assert blob[:4] == b"AE8\x01"
    header = codec.read_header(blob)
    assert header == {"version": 1, "fingerprint": tables.fingerprint(), "n_images": 3}
    assert len(codec.encode_symbols(np.zeros((0, 6), np.int32), tables)) == codec.HEADER_BYTES


def test_bad_strings_and_symbols_raise():
    tables = _tables()
    symbols = _symbols(tables, n=4)
    blob = codec.encode_symbols(symbols, tables)
    with pytest.raises(ValueError, match="magic"):
        codec.decode_symbols(b"JFIF" + blob[4:], tables)
    with pytest.raises(ValueError, match="version"):
        codec.read_header(blob[:3] + b"\x02" + blob[4:])
    with pytest.raises(ValueError, match="other probability tables"):
        codec.decode_symbols(blob, _tables(seed=5))
    with pytest.raises(ValueError, match="truncated"):
        codec.decode_symbols(blob[:-3], tables)
    with pytest.raises(ValueError, match="follow the last image"):
        codec.decode_symbols(blob + b"\0", tables)
    with pytest.raises(ValueError, match="outside the tables"):
        codec.encode_symbols(symbols + 100, tables)
    with pytest.raises(TypeError, match="integers"):
        codec.encode_symbols(symbols.astype(float), tables)
    with pytest.raises(ValueError, match="probability distribution"):
        codec.FactorizedTables(np.zeros(2, np.int32), np.ones((2, 3)))


def test_quantise_rounds_and_clips():
    y = np.array([[-7.6, 0.49, 2.5, 9.2]])
    np.testing.assert_array_equal(codec.quantise(y), [[-8, 0, 2, 9]])  # halves to even, like np.rint
    np.testing.assert_array_equal(codec.quantise(y, np.full(4, -3), np.full(4, 5)), [[-3, 0, 2, 5]])


def test_codec_round_trip_equals_the_in_memory_decode_bit_for_bit():
    rng = np.random.default_rng(2)
    basis = rng.normal(size=(16, 8))
    x = rng.random((30, 16))
    step = 0.3

    def analysis(images):
        return images @ basis / step

    def synthesis(q):
        return (q * step) @ np.linalg.pinv(basis)

    tables = codec.FactorizedTables.from_symbols(codec.quantise(analysis(rng.random((500, 16)))))
    c = codec.Codec(analysis, synthesis, tables)
    blob = c.encode(x)
    decoded = c.decode(blob)
    assert decoded.dtype == c.reconstruct(x).dtype
    assert np.array_equal(decoded, c.reconstruct(x))  # exact, not allclose
    assert codec.read_header(blob)["n_images"] == 30


def test_histogram_tables_cover_the_training_symbols():
    symbols = np.array([[0, 5], [2, 7], [1, 5]])
    tables = codec.FactorizedTables.from_symbols(symbols, smoothing=0.5)
    np.testing.assert_array_equal(tables.low, [0, 5])
    np.testing.assert_array_equal(tables.high, [2, 7])
    np.testing.assert_allclose(tables.probs[1], np.array([2.5, 0.5, 1.5]) / 4.5)


def test_prior_tables_match_its_bits_on_integers():
    import keras

    prior = codec.FactorizedPrior(dims=5, rates=2)
    prior.log_scale.assign(np.log(np.full((2, 5, 3), 1.5, "float32")))
    rate = np.array([1, 1, 1])
    y = np.array([[0, 1, -2, 3, 0], [1, 1, 1, 1, 1], [-1, 0, 2, 0, 4]], "float32")
    bits = keras.ops.convert_to_numpy(prior.bits(y, rate))
    tables = prior.tables(1)
    assert (tables.low <= y.min(0)).all() and (tables.high >= y.max(0)).all()
    np.testing.assert_allclose(tables.bits(y.astype(np.int32)), bits, rtol=1e-4)
    assert codec.FactorizedPrior.from_config(prior.get_config()).dims == 5


def test_jpeg_scan_is_the_bytes_between_sos_and_eoi():
    image = np.random.default_rng(3).random((28, 28))
    data = bc.jpeg_file(image, 20)
    scan = bc.jpeg_scan(data)
    sos = data.index(b"\xff\xda")
    assert data.endswith(scan + b"\xff\xd9")
    assert len(data) - len(scan) == sos + 2 + int.from_bytes(data[sos + 2:sos + 4], "big") + 2
    # the tables are the same for every image at one quality: everything before the scan is shared
    other = bc.jpeg_file(np.zeros((28, 28)), 20)
    assert other[:len(other) - len(bc.jpeg_scan(other)) - 2] == data[:len(data) - len(scan) - 2]
    with pytest.raises(ValueError, match="SOI"):
        bc.jpeg_scan(b"RIFF" + data[4:])
    with pytest.raises(ValueError, match="EOI"):
        bc.jpeg_scan(data[:-2])


def test_baseline_files_decode_and_count_bytes():
    images = np.random.default_rng(4).random((3, 28, 28)).astype(np.float32)
    result = bc.sweep(images, "webp", [0, 80])
    assert result[0]["file_bytes"].shape == (3,) and result[0]["images"].shape == (3, 28, 28)
    assert result[0]["file_bytes"].mean() < result[80]["file_bytes"].mean()
    jpeg = bc.sweep(images, "jpeg", [50])[50]
    assert (jpeg["scan_bytes"] < jpeg["file_bytes"]).all()
    assert bc.webp_file(images[0], 50) == bc.webp_file(images[0], 50)  # deterministic
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bc.jpeg_file(images[0] * 255, 50)
    with pytest.raises(ValueError, match="one greyscale image"):
        bc.webp_file(images, 50)


def test_quantise_refuses_codes_that_are_not_finite():
    with pytest.raises(ValueError, match="not finite"):
        codec.quantise(np.array([[0.2, np.nan]]))
    with pytest.raises(ValueError, match="not finite"):
        codec.quantise(np.array([[np.inf, 1.0]]), np.zeros(2), np.ones(2))


def test_clipped_fraction_counts_what_the_quantiser_clips():
    y = np.array([[-7.6, 0.4], [2.4, 9.2]])
    assert codec.clipped_fraction(y, np.array([-3, 0]), np.array([5, 5])) == 0.5
    c = codec.Codec(lambda x: x, lambda s: s, codec.FactorizedTables(np.array([0, 0]), np.full((2, 3), 1 / 3)))
    assert c.clipped(np.array([[0.0, 1.0], [3.0, -1.0]])) == 0.5


def test_fingerprint_is_of_little_endian_bytes():
    tables = _tables()
    big = codec.FactorizedTables(tables.offsets.astype(">i4"), tables.probs.astype(">f8"))
    assert big.fingerprint() == tables.fingerprint()


def test_best_at_is_the_upper_concave_hull():
    rates, quality = [10, 20, 30, 40], [10.0, 11.0, 20.0, 19.0]  # (20, 11) lies below the chord (10, 10)-(30, 20)
    np.testing.assert_array_equal(codec.upper_hull(rates, quality)[0], [10, 30])
    got = codec.best_at(rates, quality, [5, 10, 20, 30, 50])
    np.testing.assert_allclose(got, [np.nan, 10, 15, 20, 20])  # mixing settings 1 and 3 half-half reaches 15
    # the hull is never below any point and never below the line between neighbours
    rng = np.random.default_rng(0)
    r, q = rng.random(30) * 100, rng.random(30) * 10
    assert (codec.best_at(r, q, r) >= q - 1e-12).all()


def test_webp_payload_drops_only_shared_bytes_and_jpeg_optimised_tables_keep_pixels():
    images = np.random.default_rng(5).random((4, 28, 28)).astype(np.float32)
    files = [bc.webp_file(im, 10) for im in images]
    for f in files:
        payload = bc.webp_payload(f)
        assert len(f) - len(payload) in (27, 28)  # 28 when RIFF pads the chunk to an even length
        assert f[20:23] == payload[:3] and f[30:30 + len(payload) - 3] == payload[3:]
    assert len({f[:4] + f[8:16] + f[23:30] for f in files}) == 1
    with pytest.raises(ValueError, match="WebP"):
        bc.webp_payload(bc.jpeg_file(images[0], 50))
    sweep = bc.sweep(images, "jpeg", [5])[5]
    assert (sweep["opt_scan_bytes"] <= sweep["scan_bytes"]).all()
    webp = bc.sweep(images, "webp", [10])[10]
    assert (webp["payload_bytes"] < webp["file_bytes"]).all()


def test_entropy_bits_sums_the_empirical_entropy_of_each_column():
    symbols = np.array([[0, 7], [0, 7], [1, 7], [2, 7]])  # column 0: p = ½, ¼, ¼ (1.5 bits); column 1: constant
    assert codec.entropy_bits(symbols) == pytest.approx(1.5)
    tables = codec.FactorizedTables.from_symbols(_symbols(_tables()), smoothing=1e-9)
    s = _symbols(_tables())
    assert codec.entropy_bits(s) == pytest.approx(tables.bits(s).mean(), rel=1e-6)  # its own histogram's length
    with pytest.raises(ValueError):
        codec.entropy_bits(np.arange(4))
