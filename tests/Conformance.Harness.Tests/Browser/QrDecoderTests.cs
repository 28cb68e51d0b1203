using System.Collections;
using System.IO.Compression;
using System.Text;
using Conformance.Harness.Browser;
using QRCoder;

namespace Conformance.Harness.Tests.Browser;

/// <summary>
/// The QR reader against an independent encoder (QRCoder 1.8.1): every version and error-correction level, every mask,
/// the RFC 0160 example invitation URL, damaged symbols (Reed–Solomon must repair what the level allows and refuse
/// what it does not), and images that are not clean generator output (offset, scaled by a non-integer, rotated,
/// surrounded by other marks). Nothing here compares against the decoder's own earlier output.
/// </summary>
public class QrDecoderTests
{
    // RFC 0160 §0 "Example URL" (shared/specs/aries-rfcs/0160-connection-protocol/README.md).
    private const string RfcExampleUrl =
        "http://example.com/ssi?c_i=eyJAdHlwZSI6ImRpZDpzb3Y6QnpDYnNOWWhNcmpIaXFaRFRVQVNIZztzcGVjL2Nvbm5lY3Rpb25zLzEuMC9pbnZpdGF0aW9uIiwiQGlkIjoiMTIzNDU2Nzg5MDA5ODc2NTQzMjEiLCJsYWJlbCI6IkFsaWNlIiwicmVjaXBpZW50S2V5cyI6WyI4SEg1Z1lFZU5jM3o3UFlYbWQ1NGQ0eDZxQWZDTnJxUXFFQjNuUzdaZnU3SyJdLCJzZXJ2aWNlRW5kcG9pbnQiOiJodHRwczovL2V4YW1wbGUuY29tL2VuZHBvaW50Iiwicm91dGluZ0tleXMiOlsiOEhINWdZRWVOYzN6N1BZWG1kNTRkNHg2cUFmQ05ycVFxRUIzblM3WmZ1N0siXX0=";

    private static QRCodeData Encode(string text, QRCodeGenerator.ECCLevel level, int version = -1)
    {
        using var gen = new QRCodeGenerator();
        return gen.CreateQrCode(text, level, forceUtf8: false, utf8BOM: false, eciMode: QRCodeGenerator.EciMode.Default, requestedVersion: version);
    }

    /// <summary>QRCoder's module matrix without its 4-module quiet zone.</summary>
    private static bool[,] Matrix(QRCodeData data)
    {
        var rows = data.ModuleMatrix;
        var size = rows.Count - 8;
        var m = new bool[size, size];
        for (int r = 0; r < size; r++)
            for (int c = 0; c < size; c++) m[r, c] = rows[r + 4][c + 4];
        return m;
    }

    private static byte[] Png(QRCodeData data, int pixelsPerModule = 3) => new PngByteQRCode(data).GetGraphic(pixelsPerModule);

    private static readonly (QRCodeGenerator.ECCLevel Level, char Name)[] Levels =
        [(QRCodeGenerator.ECCLevel.L, 'L'), (QRCodeGenerator.ECCLevel.M, 'M'), (QRCodeGenerator.ECCLevel.Q, 'Q'), (QRCodeGenerator.ECCLevel.H, 'H')];

    [Test]
    public void Decodes_every_version_and_level_from_QRCoder_png()
    {
        // A payload small enough for 1-L... 1-H, so every version can be requested; padding fills the rest, and the
        // Reed-Solomon check over every block proves the block table and the de-interleaving.
        const string text = "c_i=e30";   // 7 bytes: the byte-mode capacity of version 1-H
        var failures = new List<string>();
        for (int v = 1; v <= 40; v++)
            foreach (var (level, name) in Levels)
            {
                try
                {
                    var data = Encode(text, level, v);
                    var fromMatrix = QrDecoder.DecodeMatrix(Matrix(data));
                    var fromPng = QrDecoder.DecodePng(Png(data, v > 20 ? 2 : 3));
                    if (fromMatrix.Text != text || fromPng.Text != text || fromPng.Version != v || fromPng.ErrorCorrection != name || fromPng.CorrectedCodewords != 0)
                        failures.Add($"{v}-{name}: {fromPng}");
                }
                catch (QrDecodeException e) { failures.Add($"{v}-{name}: {e.Message}"); }
            }
        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void Full_symbols_of_every_level_decode_and_every_mask_is_exercised()
    {
        var masks = new HashSet<int>();
        var rng = new Random(160);
        for (int i = 0; i < 120; i++)
        {
            var (level, _) = Levels[i % 4];
            // Random printable ASCII of growing length: byte mode, up to multi-block versions.
            var len = 1 + i * 9;
            var text = new string(Enumerable.Range(0, len).Select(_ => (char)rng.Next(32, 127)).ToArray());
            var data = Encode(text, level);
            var decoded = QrDecoder.DecodePng(Png(data, 2));
            Assert.That(decoded.Text, Is.EqualTo(text), $"payload {i} ({len} chars, {level})");
            masks.Add(decoded.Mask);
        }
        Assert.That(masks, Is.EquivalentTo(Enumerable.Range(0, 8)), "QRCoder chose every mask pattern at least once over these payloads");
    }

    [Test]
    public void Numeric_and_alphanumeric_segments_decode()
    {
        // QRCoder picks numeric mode for digits and alphanumeric mode for the 45-character set.
        foreach (var text in new[] { "0123456789012345", "1", "12", "HTTPS://EXAMPLE.COM/SSI?C_I=ABC $%*+-./:", "A" })
            Assert.That(QrDecoder.DecodeMatrix(Matrix(Encode(text, QRCodeGenerator.ECCLevel.M))).Text, Is.EqualTo(text));
    }

    [Test]
    public void Utf8_text_decodes()
    {
        const string text = "Einladung von Müller & Søn — 招待";
        using var gen = new QRCodeGenerator();
        var data = gen.CreateQrCode(text, QRCodeGenerator.ECCLevel.M, forceUtf8: true);
        Assert.That(QrDecoder.DecodeMatrix(Matrix(data)).Text, Is.EqualTo(text));
    }

    [Test]
    public void Rfc0160_example_invitation_url_round_trips()
    {
        var decoded = QrDecoder.DecodePng(Png(Encode(RfcExampleUrl, QRCodeGenerator.ECCLevel.M), 4));
        Assert.That(decoded.Text, Is.EqualTo(RfcExampleUrl));
        Assert.That(decoded.Version, Is.GreaterThanOrEqualTo(15), "a 560-character URL needs a large symbol (multi-block, version information)");
    }

    [Test]
    public void Reed_Solomon_repairs_damage_within_the_level_and_refuses_beyond_it()
    {
        var data = Encode(RfcExampleUrl, QRCodeGenerator.ECCLevel.H);
        var m = Matrix(data);
        var size = m.GetLength(0);
        // A 5x5 blot in the middle (a logo, a smudge): at level H (30 %) it must be corrected.
        var blotted = (bool[,])m.Clone();
        for (int r = size / 2 - 2; r <= size / 2 + 2; r++)
            for (int c = size / 2 - 2; c <= size / 2 + 2; c++) blotted[r, c] = !blotted[r, c];
        var repaired = QrDecoder.DecodeMatrix(blotted);
        Assert.That(repaired.Text, Is.EqualTo(RfcExampleUrl));
        Assert.That(repaired.CorrectedCodewords, Is.GreaterThan(0));

        // Invert the whole right half: far beyond any level.
        var ruined = (bool[,])m.Clone();
        for (int r = 9; r < size - 9; r++)
            for (int c = size / 2; c < size - 9; c++) ruined[r, c] = !ruined[r, c];
        var e = Assert.Throws<QrDecodeException>(() => QrDecoder.DecodeMatrix(ruined))!;
        Assert.That(e.Located, Is.True);
    }

    [Test]
    public void Finds_the_symbol_offset_scaled_rotated_and_among_other_marks()
    {
        var m = Matrix(Encode(RfcExampleUrl, QRCodeGenerator.ECCLevel.M));
        foreach (var (scale, rotate) in new[] { (2.5, 0), (3.0, 1), (4.25, 2), (3.5, 3) })
        {
            var img = Render(m, scale, rotate, offsetX: 57, offsetY: 31, clutter: true);
            Assert.That(QrDecoder.Decode(img).Text, Is.EqualTo(RfcExampleUrl), $"scale {scale}, rotated {rotate * 90}°");
        }
    }

    [Test]
    public void An_image_without_a_code_says_so()
    {
        var blank = new PngImage(200, 100, Enumerable.Repeat((byte)255, 200 * 100).ToArray());
        Assert.That(Assert.Throws<QrDecodeException>(() => QrDecoder.Decode(blank))!.Located, Is.False);
        var rng = new Random(7);
        var noise = new PngImage(300, 300, Enumerable.Range(0, 300 * 300).Select(_ => (byte)(rng.Next(2) * 255)).ToArray());
        Assert.Throws<QrDecodeException>(() => QrDecoder.Decode(noise));
    }

    [Test]
    public void Png_reader_handles_every_filter_and_colour_type()
    {
        // A test-side encoder writes known pixels with each of the five filter types; the reader must undo them.
        var rng = new Random(2119);
        const int w = 13, h = 10;
        var rgba = new byte[w * h * 4];
        rng.NextBytes(rgba);
        foreach (var colorType in new byte[] { 0, 2, 4, 6 })
        {
            var png = TestPng.Write(w, h, colorType, rgba);
            var img = PngImage.Decode(png);
            for (int i = 0; i < w * h; i++)
            {
                int r = rgba[i * 4], g = rgba[i * 4 + 1], b = rgba[i * 4 + 2], a = rgba[i * 4 + 3];
                if (colorType is 0 or 4) r = g = b = TestPng.Gray(rgba, i);
                if (colorType is 0 or 2) a = 255;
                var y = (299 * r + 587 * g + 114 * b) / 1000;
                Assert.That(img.Luminance[i], Is.EqualTo((byte)((y * a + 255 * (255 - a)) / 255)), $"colour type {colorType}, pixel {i}");
            }
        }
        Assert.Throws<ImageFormatException>(() => PngImage.Decode([1, 2, 3]));
        Assert.Throws<ImageFormatException>(() => PngImage.Decode(TestPng.Write(w, h, 2, rgba)[..60]));
    }

    /// <summary>Draws a module matrix into a luminance image with a quiet zone, a scale, a quarter-turn rotation, and optional clutter.</summary>
    internal static PngImage Render(bool[,] m, double scale, int quarterTurns, int offsetX, int offsetY, bool clutter)
    {
        var n = m.GetLength(0);
        var side = (int)Math.Ceiling((n + 8) * scale);
        int w = side + offsetX + 90, h = side + offsetY + 70;
        var lum = Enumerable.Repeat((byte)255, w * h).ToArray();
        if (clutter)
        {
            // Some text-like strokes and a frame beside the code.
            for (int x = 0; x < w; x++) { lum[2 * w + x] = 0; lum[(h - 3) * w + x] = 0; }
            var rng = new Random(3);
            for (int k = 0; k < 40; k++)
            {
                int x0 = side + offsetX + 10 + rng.Next(60), y0 = 10 + rng.Next(h - 30);
                for (int dy = 0; dy < 9; dy++) for (int dx = 0; dx < 2; dx++) lum[(y0 + dy) * w + x0 + dx] = 0;
            }
        }
        for (int py = 0; py < side; py++)
            for (int px = 0; px < side; px++)
            {
                int mr = (int)(py / scale) - 4, mc = (int)(px / scale) - 4;
                if (mr < 0 || mc < 0 || mr >= n || mc >= n) continue;
                var (r, c) = quarterTurns switch
                {
                    1 => (n - 1 - mc, mr),
                    2 => (n - 1 - mr, n - 1 - mc),
                    3 => (mc, n - 1 - mr),
                    _ => (mr, mc),
                };
                if (m[r, c]) lum[(py + offsetY) * w + px + offsetX] = 20;
            }
        return new PngImage(w, h, lum);
    }
}

/// <summary>A minimal PNG writer for tests: 8-bit, non-interlaced, the filter type cycling 0..4 by row.</summary>
internal static class TestPng
{
    public static int Gray(byte[] rgba, int i) => rgba[i * 4];

    public static byte[] Write(int w, int h, byte colorType, byte[] rgba)
    {
        var channels = colorType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };
        var stride = w * channels;
        var lines = new byte[h][];
        for (int y = 0; y < h; y++)
        {
            lines[y] = new byte[stride];
            for (int x = 0; x < w; x++)
            {
                var i = y * w + x;
                byte[] px = colorType switch
                {
                    0 => [rgba[i * 4]],
                    2 => [rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2]],
                    4 => [rgba[i * 4], rgba[i * 4 + 3]],
                    _ => [rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2], rgba[i * 4 + 3]],
                };
                px.CopyTo(lines[y], x * channels);
            }
        }
        using var raw = new MemoryStream();
        for (int y = 0; y < h; y++)
        {
            var filter = (byte)(y % 5);
            raw.WriteByte(filter);
            var prev = y > 0 ? lines[y - 1] : new byte[stride];
            var cur = lines[y];
            for (int i = 0; i < stride; i++)
            {
                int a = i >= channels ? cur[i - channels] : 0, b = prev[i], c = i >= channels ? prev[i - channels] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    _ => Paeth(a, b, c),
                };
                raw.WriteByte((byte)(cur[i] - predictor));
            }
        }
        using var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) raw.WriteTo(zs);
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = 8; ihdr[9] = colorType;
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", z.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var len = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        s.Write(Encoding.ASCII.GetBytes(type));
        s.Write(data);
        s.Write(new byte[4]);   // CRC: not checked by the reader
    }
}
