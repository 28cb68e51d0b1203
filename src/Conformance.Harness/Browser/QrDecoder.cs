// A QR Code (ISO/IEC 18004, model 2, versions 1–40) reader for images a browser rendered: the invitation QR codes
// that RFC 0160 §0 anticipates ("Invitation URLs can be transferred via any method that can send text, including
// ... via a QR Code") and RFC 0434 names. The browser suite screenshots the page and decodes the picture, so what is
// graded is what a phone camera would see, not a URL read back out of the HTML.
//
// Scope, stated honestly: the symbol must be upright or rotated but not perspective-distorted (a screenshot, not a
// photograph), dark on light, with its three finder patterns visible. Within that, it does the whole job:
//   1. locate  — finder patterns by the 1:1:3:1:1 run ratio in both directions (§6.3.3, §12 step "locate");
//   2. sample  — an affine grid through the three finder centres, one sample per module centre;
//   3. format  — the 15-bit format information (BCH(15,5), XOR 101010000010010) from both copies, best match within
//                3 bit errors (§7.9); version information (BCH(18,6)) for versions ≥ 7 (§7.10);
//   4. unmask and read codewords in the two-module zig-zag, skipping function patterns (§7.7.3, §7.8.2);
//   5. de-interleave the blocks and correct them with Reed–Solomon over GF(256), polynomial 0x11D (§7.5.2, Annex B);
//   6. parse the segments: numeric, alphanumeric, byte, ECI (§7.4); Kanji is refused.
// Decoded text from byte segments is UTF-8 (ECI 26, or any valid UTF-8), else ISO-8859-1 (the standard's default).
using System.Text;

namespace Conformance.Harness.Browser;

/// <summary>What a QR code said, and how it was encoded.</summary>
public sealed record QrCode(string Text, int Version, char ErrorCorrection, int Mask, int CorrectedCodewords);

/// <summary>No QR code could be read from the image. <see cref="Located"/> tells a damaged symbol from none at all.</summary>
public sealed class QrDecodeException(string message, bool located) : Exception(message)
{
    /// <summary>True when finder patterns were found (a QR code is there but could not be read).</summary>
    public bool Located { get; } = located;
}

public static class QrDecoder
{
    // ------------------------------------------------------------------ image → module matrix

    /// <summary>Decodes the QR code in a PNG (e.g. a Chromium screenshot or a generator's output).</summary>
    public static QrCode DecodePng(ReadOnlySpan<byte> png) => Decode(PngImage.Decode(png));

    /// <summary>Finds and decodes the QR code in an image.</summary>
    public static QrCode Decode(PngImage image)
    {
        var dark = Binarize(image);
        var finders = FindFinderPatterns(dark, image.Width, image.Height);
        if (finders.Count < 3) throw new QrDecodeException($"no QR code in the {image.Width}x{image.Height} image (found {finders.Count} of 3 finder patterns)", located: false);

        QrDecodeException? first = null;
        // The likeliest triples of finder patterns first; the size estimate can be one version off on small renderings
        // (the version information settles it from version 7 on).
        foreach (var (tl, tr, bl) in Triples(finders).Take(4))
        {
            var module = (tl.Module + tr.Module + bl.Module) / 3;
            var span = (Dist(tl, tr) + Dist(tl, bl)) / 2 / module;
            var dimension = (int)Math.Round((span + 7 - 17) / 4) * 4 + 17;
            foreach (var d in new[] { dimension, dimension + 4, dimension - 4 })
            {
                if (d < 21 || d > 177) continue;
                try { return DecodeMatrix(Sample(dark, image.Width, image.Height, tl, tr, bl, d)); }
                catch (QrDecodeException e) { first ??= new QrDecodeException(e.Message, located: true); }
            }
        }
        throw first ?? new QrDecodeException("the finder patterns do not frame a QR code", located: true);
    }

    private static bool[] Binarize(PngImage image)
    {
        // Rendered codes are crisp: the midpoint between the darkest and lightest pixel separates them.
        byte min = 255, max = 0;
        foreach (var v in image.Luminance) { if (v < min) min = v; if (v > max) max = v; }
        if (max - min < 48) throw new QrDecodeException("the image has no contrast (blank)", located: false);
        var threshold = (min + max) / 2;
        var dark = new bool[image.Luminance.Length];
        for (int i = 0; i < dark.Length; i++) dark[i] = image.Luminance[i] < threshold;
        return dark;
    }

    private sealed record Finder(double X, double Y, double Module, int Count);

    private static double Dist(Finder a, Finder b) => Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y));

    /// <summary>Runs of 1:1:3:1:1 (dark, light, dark, light, dark) along rows, confirmed along the column through their centre.</summary>
    private static List<Finder> FindFinderPatterns(bool[] dark, int w, int h)
    {
        var hits = new List<(double X, double Y, double Module)>();
        var runs = new int[5];
        for (int y = 0; y < h; y++)
        {
            // runs[0..state] are the current run lengths; even indices are dark runs. A row that starts light
            // begins with an empty dark run, which fails the ratio and slides away.
            Array.Clear(runs);
            int state = 0;
            for (int x = 0; x < w; x++)
            {
                var d = dark[y * w + x];
                if (d == (state % 2 == 0)) { runs[state]++; continue; }
                if (state < 4) { state++; runs[state] = 1; continue; }
                Candidate(dark, w, h, runs, x, y, hits);   // five runs complete; the fifth ended at x - 1
                // Slide by two runs: keep dark, light, dark, and count this light pixel as the next light run.
                runs[0] = runs[2]; runs[1] = runs[3]; runs[2] = runs[4]; runs[3] = 1; runs[4] = 0;
                state = 3;
            }
            if (state == 4) Candidate(dark, w, h, runs, w, y, hits);
        }
        // Cluster the hits: one finder pattern gives a hit on every row through its 3x3 core.
        var clusters = new List<(double X, double Y, double Module, int Count)>();
        foreach (var (x, y, m) in hits)
        {
            var i = clusters.FindIndex(c => Math.Abs(c.X - x) <= c.Module * 2 && Math.Abs(c.Y - y) <= c.Module * 2
                                            && Math.Abs(c.Module - m) <= Math.Max(c.Module, m) * 0.5);
            if (i < 0) { clusters.Add((x, y, m, 1)); continue; }
            var c = clusters[i];
            var n = c.Count + 1;
            clusters[i] = ((c.X * c.Count + x) / n, (c.Y * c.Count + y) / n, (c.Module * c.Count + m) / n, n);
        }
        return clusters.Where(c => c.Count >= 2 || c.Module < 3).OrderByDescending(c => c.Count)
            .Select(c => new Finder(c.X, c.Y, c.Module, c.Count)).ToList();
    }

    private static void Candidate(bool[] dark, int w, int h, int[] r, int end, int row, List<(double X, double Y, double Module)> hits)
    {
        if (r[0] == 0 || !RatioOk(r)) return;
        var total = r.Sum();
        var cx = end - r[4] - r[3] - r[2] / 2.0;
        if (CrossCheck(dark, w, h, (int)cx, row, total, vertical: true) is not { } vy) return;
        if (CrossCheck(dark, w, h, (int)cx, (int)vy, total, vertical: false) is not { } vx) return;
        hits.Add((vx, vy, total / 7.0));
    }

    private static bool RatioOk(IReadOnlyList<int> r)
    {
        var total = r[0] + r[1] + r[2] + r[3] + r[4];
        if (total < 7) return false;
        var m = total / 7.0;
        var tol = m / 2;
        return Math.Abs(m - r[0]) < tol && Math.Abs(m - r[1]) < tol && Math.Abs(3 * m - r[2]) < 3 * tol
               && Math.Abs(m - r[3]) < tol && Math.Abs(m - r[4]) < tol;
    }

    /// <summary>Counts the 1:1:3:1:1 runs through (x, y) along the other axis; returns the refined centre coordinate on that axis.</summary>
    private static double? CrossCheck(bool[] dark, int w, int h, int x, int y, int expectedTotal, bool vertical)
    {
        bool At(int i) => vertical ? dark[i * w + x] : dark[y * w + i];
        var limit = vertical ? h : w;
        var c = vertical ? y : x;
        if (c < 0 || c >= limit || !At(c)) return null;
        var r = new int[5];
        int i2 = c;
        while (i2 >= 0 && At(i2)) { r[2]++; i2--; }
        while (i2 >= 0 && !At(i2)) { r[1]++; i2--; }
        while (i2 >= 0 && At(i2)) { r[0]++; i2--; }
        i2 = c + 1;
        while (i2 < limit && At(i2)) { r[2]++; i2++; }
        while (i2 < limit && !At(i2)) { r[3]++; i2++; }
        while (i2 < limit && At(i2)) { r[4]++; i2++; }
        if (!RatioOk(r)) return null;
        var total = r.Sum();
        if (Math.Abs(total - expectedTotal) * 2 > expectedTotal) return null;   // not the same size both ways
        return i2 - r[4] - r[3] - r[2] / 2.0;
    }

    /// <summary>
    /// Triples of finder patterns as (top-left, top-right, bottom-left), best first: equal module sizes, two equal
    /// sides meeting at a right angle in the top-left corner.
    /// </summary>
    private static IEnumerable<(Finder Tl, Finder Tr, Finder Bl)> Triples(List<Finder> finders)
    {
        var top = finders.Take(8).ToList();
        var scored = new List<(double Score, (Finder, Finder, Finder) Triple)>();
        for (int i = 0; i < top.Count; i++)
            for (int j = i + 1; j < top.Count; j++)
                for (int k = j + 1; k < top.Count; k++)
                {
                    var (tl, tr, bl) = Corner(top[i], top[j], top[k]);
                    var ms = new[] { tl.Module, tr.Module, bl.Module };
                    var spread = (ms.Max() - ms.Min()) / ms.Average();
                    double l1 = Dist(tl, tr), l2 = Dist(tl, bl), hyp = Dist(tr, bl);
                    var sides = Math.Abs(l1 - l2) / Math.Max(l1, l2);
                    var angle = Math.Abs(hyp / Math.Sqrt(l1 * l1 + l2 * l2) - 1);
                    if (l1 < 7 * tl.Module || l2 < 7 * tl.Module) continue;   // overlapping patterns
                    scored.Add((spread + sides + angle, (tl, tr, bl)));
                }
        return scored.OrderBy(s => s.Score).Select(s => s.Triple);

        static (Finder, Finder, Finder) Corner(Finder p, Finder q, Finder r)
        {
            double pq = Dist(p, q), pr = Dist(p, r), qr = Dist(q, r);
            Finder tl, x, y;
            if (qr >= pq && qr >= pr) (tl, x, y) = (p, q, r);
            else if (pr >= pq && pr >= qr) (tl, x, y) = (q, p, r);
            else (tl, x, y) = (r, p, q);
            // Image y grows downwards: x is the top-right one when (x - tl) × (y - tl) > 0.
            var cross = (x.X - tl.X) * (y.Y - tl.Y) - (x.Y - tl.Y) * (y.X - tl.X);
            return cross > 0 ? (tl, x, y) : (tl, y, x);
        }
    }

    private static bool[,] Sample(bool[] dark, int w, int h, Finder tl, Finder tr, Finder bl, int dimension)
    {
        // Finder centres sit at module (3.5, 3.5), (d - 3.5, 3.5), (3.5, d - 3.5) measured from the symbol's corner.
        var n = dimension - 7.0;
        double ux = (tr.X - tl.X) / n, uy = (tr.Y - tl.Y) / n;   // one module to the right
        double vx = (bl.X - tl.X) / n, vy = (bl.Y - tl.Y) / n;   // one module down
        var m = new bool[dimension, dimension];
        for (int row = 0; row < dimension; row++)
            for (int col = 0; col < dimension; col++)
            {
                var px = tl.X + (col - 3) * ux + (row - 3) * vx;
                var py = tl.Y + (col - 3) * uy + (row - 3) * vy;
                int ix = (int)Math.Floor(px), iy = (int)Math.Floor(py);
                if (ix < 0 || iy < 0 || ix >= w || iy >= h) throw new QrDecodeException("the QR code is cut off at the edge of the image", located: true);
                m[row, col] = dark[iy * w + ix];
            }
        return m;
    }

    // ------------------------------------------------------------------ module matrix → text

    /// <summary>Decodes a module matrix (true = dark), <c>[row, column]</c>, without the quiet zone.</summary>
    public static QrCode DecodeMatrix(bool[,] m)
    {
        var size = m.GetLength(0);
        if (size != m.GetLength(1) || size < 21 || size > 177 || (size - 17) % 4 != 0)
            throw new QrDecodeException($"a {size}x{m.GetLength(1)} matrix is not a QR code size", located: true);
        var version = (size - 17) / 4;
        if (version >= 7)
        {
            var read = ReadVersion(m, size);
            if (read != version) throw new QrDecodeException($"version information says {read?.ToString() ?? "nothing readable"}, the size says {version}", located: true);
        }
        var (ecl, mask) = ReadFormat(m, size);
        var function = FunctionPatterns(version);
        var raw = ReadCodewords(m, function, mask, RawDataModules(version) / 8);
        var (data, corrected) = Deinterleave(raw, version, ecl);
        var text = ParseSegments(data, version);
        return new QrCode(text, version, "MLHQ"[ecl], mask, corrected);
    }

    // Error correction level bits (§7.9.1): L = 01, M = 00, Q = 11, H = 10; indices below follow the bits.
    private static int EcIndex(int bits) => bits switch { 1 => 0, 0 => 1, 3 => 2, _ => 3 };   // → L, M, Q, H

    private static (int EcBits, int Mask) ReadFormat(bool[,] m, int size)
    {
        int Bit(int row, int col) => m[row, col] ? 1 : 0;
        int a = 0, b = 0;
        // Copy 1, around the top-left finder, most significant bit first.
        for (int c = 0; c <= 5; c++) a = (a << 1) | Bit(8, c);
        a = (a << 1) | Bit(8, 7);
        a = (a << 1) | Bit(8, 8);
        a = (a << 1) | Bit(7, 8);
        for (int r = 5; r >= 0; r--) a = (a << 1) | Bit(r, 8);
        // Copy 2: below the top-right finder's column... bottom-left column 8, then row 8 of the top-right.
        for (int r = size - 1; r >= size - 7; r--) b = (b << 1) | Bit(r, 8);
        for (int c = size - 8; c < size; c++) b = (b << 1) | Bit(8, c);

        int bestData = -1, bestDistance = int.MaxValue;
        for (int data = 0; data < 32; data++)
        {
            var code = FormatCode(data);
            var d = Math.Min(System.Numerics.BitOperations.PopCount((uint)(code ^ a)), System.Numerics.BitOperations.PopCount((uint)(code ^ b)));
            if (d < bestDistance) { bestDistance = d; bestData = data; }
        }
        if (bestDistance > 3) throw new QrDecodeException("the format information is unreadable", located: true);
        return (bestData >> 3, bestData & 7);
    }

    /// <summary>§7.9.1: 5 data bits, BCH(15,5) remainder with generator 10100110111, masked with 101010000010010.</summary>
    private static int FormatCode(int data)
    {
        var rem = data;
        for (int i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >> 9) * 0x537);
        return ((data << 10) | (rem & 0x3FF)) ^ 0x5412;
    }

    /// <summary>§7.10: 6 version bits, BCH(18,6) remainder with generator 1111100100101.</summary>
    private static int VersionCode(int version)
    {
        var rem = version;
        for (int i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
        return (version << 12) | (rem & 0xFFF);
    }

    private static int? ReadVersion(bool[,] m, int size)
    {
        // Bit i (least significant first) sits at row i / 3, column size - 11 + i % 3 (top-right block), and transposed (bottom-left).
        int a = 0, b = 0;
        for (int i = 17; i >= 0; i--)
        {
            a = (a << 1) | (m[i / 3, size - 11 + i % 3] ? 1 : 0);
            b = (b << 1) | (m[size - 11 + i % 3, i / 3] ? 1 : 0);
        }
        int? best = null;
        var bestDistance = int.MaxValue;
        for (int v = 7; v <= 40; v++)
        {
            var code = VersionCode(v);
            var d = Math.Min(System.Numerics.BitOperations.PopCount((uint)(code ^ a)), System.Numerics.BitOperations.PopCount((uint)(code ^ b)));
            if (d < bestDistance) { bestDistance = d; best = v; }
        }
        return bestDistance <= 3 ? best : null;
    }

    /// <summary>Alignment pattern centre coordinates (Annex E), as generated by the standard's spacing rule.</summary>
    private static int[] AlignmentPositions(int version)
    {
        if (version == 1) return [];
        var count = version / 7 + 2;
        var step = (version * 8 + count * 3 + 5) / (count * 4 - 4) * 2;
        var result = new int[count];
        result[0] = 6;
        for (int i = count - 1, pos = version * 4 + 17 - 7; i >= 1; i--, pos -= step) result[i] = pos;
        return result;
    }

    /// <summary>Modules that carry no data: finders with separators and format areas, timing, alignment, version information.</summary>
    private static bool[,] FunctionPatterns(int version)
    {
        var size = version * 4 + 17;
        var f = new bool[size, size];
        void Fill(int r0, int c0, int rows, int cols)
        {
            for (int r = r0; r < r0 + rows; r++)
                for (int c = c0; c < c0 + cols; c++) f[r, c] = true;
        }
        Fill(0, 0, 9, 9);              // top-left finder, separator, format information
        Fill(0, size - 8, 9, 8);       // top-right finder, separator, format information
        Fill(size - 8, 0, 8, 9);       // bottom-left finder, separator, format information, dark module
        Fill(6, 0, 1, size);           // timing patterns
        Fill(0, 6, size, 1);
        var align = AlignmentPositions(version);
        for (int i = 0; i < align.Length; i++)
            for (int j = 0; j < align.Length; j++)
            {
                if ((i == 0 && j == 0) || (i == 0 && j == align.Length - 1) || (i == align.Length - 1 && j == 0)) continue;
                Fill(align[i] - 2, align[j] - 2, 5, 5);
            }
        if (version >= 7)
        {
            Fill(0, size - 11, 6, 3);
            Fill(size - 11, 0, 3, 6);
        }
        return f;
    }

    /// <summary>Number of data and error-correction modules (all codewords plus remainder bits).</summary>
    private static int RawDataModules(int version)
    {
        var result = (16 * version + 128) * version + 64;
        if (version >= 2)
        {
            var count = version / 7 + 2;
            result -= (25 * count - 10) * count - 55;
            if (version >= 7) result -= 36;
        }
        return result;
    }

    private static bool Masked(int mask, int row, int col) => mask switch
    {
        0 => (row + col) % 2 == 0,
        1 => row % 2 == 0,
        2 => col % 3 == 0,
        3 => (row + col) % 3 == 0,
        4 => (row / 2 + col / 3) % 2 == 0,
        5 => row * col % 2 + row * col % 3 == 0,
        6 => (row * col % 2 + row * col % 3) % 2 == 0,
        _ => ((row + col) % 2 + row * col % 3) % 2 == 0,
    };

    /// <summary>§7.7.3: two-module-wide columns from the bottom-right, alternately upwards and downwards, skipping the vertical timing column.</summary>
    private static byte[] ReadCodewords(bool[,] m, bool[,] function, int mask, int count)
    {
        var size = m.GetLength(0);
        var result = new byte[count];
        var bit = 0;
        for (int right = size - 1; right >= 1; right -= 2)
        {
            if (right == 6) right = 5;
            var upward = ((right + 1) & 2) == 0;
            for (int v = 0; v < size; v++)
            {
                var row = upward ? size - 1 - v : v;
                for (int j = 0; j < 2; j++)
                {
                    var col = right - j;
                    if (function[row, col] || bit >= count * 8) continue;
                    if (m[row, col] ^ Masked(mask, row, col)) result[bit >> 3] |= (byte)(0x80 >> (bit & 7));
                    bit++;
                }
            }
        }
        return result;
    }

    // Table 9: error-correction codewords per block and number of blocks, by [L, M, Q, H][version].
    private static readonly int[][] EccPerBlock =
    [
        [-1, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        [-1, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
        [-1, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        [-1, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
    ];

    private static readonly int[][] BlockCount =
    [
        [-1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
        [-1, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
        [-1, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
        [-1, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
    ];

    /// <summary>§7.6: undoes the interleaving (short blocks first, each one data codeword shorter), corrects each block, returns the data codewords.</summary>
    private static (byte[] Data, int Corrected) Deinterleave(byte[] raw, int version, int ecBits)
    {
        var level = EcIndex(ecBits);
        int blocks = BlockCount[level][version], ecc = EccPerBlock[level][version];
        var shortBlocks = blocks - raw.Length % blocks;
        var shortLen = raw.Length / blocks;   // total codewords in a short block
        var block = new byte[blocks][];
        for (int i = 0; i < blocks; i++) block[i] = new byte[i < shortBlocks ? shortLen : shortLen + 1];
        var k = 0;
        // Data codewords column by column (long blocks have one more), then EC codewords column by column.
        var shortData = shortLen - ecc;
        for (int i = 0; i <= shortData; i++)
            for (int j = 0; j < blocks; j++)
                if (i < shortData || j >= shortBlocks) block[j][i] = raw[k++];
        for (int i = 0; i < ecc; i++)
            for (int j = 0; j < blocks; j++)
                block[j][block[j].Length - ecc + i] = raw[k++];

        var data = new List<byte>();
        var corrected = 0;
        foreach (var b in block)
        {
            corrected += ReedSolomon.Correct(b, ecc);
            data.AddRange(b.AsSpan(0, b.Length - ecc).ToArray());
        }
        return (data.ToArray(), corrected);
    }

    private const string Alphanumeric = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

    private static string ParseSegments(byte[] data, int version)
    {
        var bits = new BitReader(data);
        var text = new StringBuilder();
        var eci = -1;
        var sizeClass = version <= 9 ? 0 : version <= 26 ? 1 : 2;
        while (bits.Remaining >= 4)
        {
            var mode = bits.Read(4);
            switch (mode)
            {
                case 0: return text.ToString();   // terminator
                case 1:                            // numeric
                {
                    var n = bits.Read(new[] { 10, 12, 14 }[sizeClass]);
                    for (; n >= 3; n -= 3) text.Append(Digits(bits.Read(10), 3));
                    if (n == 2) text.Append(Digits(bits.Read(7), 2));
                    else if (n == 1) text.Append(Digits(bits.Read(4), 1));
                    break;
                }
                case 2:                            // alphanumeric
                {
                    var n = bits.Read(new[] { 9, 11, 13 }[sizeClass]);
                    for (; n >= 2; n -= 2)
                    {
                        var v = bits.Read(11);
                        if (v / 45 >= 45) throw new QrDecodeException("invalid alphanumeric data", located: true);
                        text.Append(Alphanumeric[v / 45]).Append(Alphanumeric[v % 45]);
                    }
                    if (n == 1)
                    {
                        var v = bits.Read(6);
                        if (v >= 45) throw new QrDecodeException("invalid alphanumeric data", located: true);
                        text.Append(Alphanumeric[v]);
                    }
                    break;
                }
                case 4:                            // byte
                {
                    var n = bits.Read(new[] { 8, 16, 16 }[sizeClass]);
                    var bytes = new byte[n];
                    for (int i = 0; i < n; i++) bytes[i] = (byte)bits.Read(8);
                    text.Append(BytesToText(bytes, eci));
                    break;
                }
                case 7:                            // ECI designator (§7.4.2.2)
                {
                    var first = bits.Read(8);
                    eci = (first & 0x80) == 0 ? first
                        : (first & 0xC0) == 0x80 ? ((first & 0x3F) << 8) | bits.Read(8)
                        : ((first & 0x1F) << 16) | bits.Read(16);
                    break;
                }
                case 8: throw new QrDecodeException("Kanji mode segments are not supported", located: true);
                case 3: bits.Read(16); break;     // structured append header: sequence and parity, content follows
                case 5: break;                    // FNC1 in first position: no data
                case 9: bits.Read(8); break;      // FNC1 in second position: an application indicator
                default: throw new QrDecodeException($"unknown QR segment mode {mode}", located: true);
            }
        }
        return text.ToString();
    }

    private static string Digits(int value, int count)
    {
        if (value >= (count == 3 ? 1000 : count == 2 ? 100 : 10)) throw new QrDecodeException("invalid numeric data", located: true);
        return value.ToString(new string('0', count), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string BytesToText(byte[] bytes, int eci)
    {
        if (eci is 3 or 1) return Encoding.Latin1.GetString(bytes);
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) when (eci != 26) { return Encoding.Latin1.GetString(bytes); }
        catch (DecoderFallbackException) { throw new QrDecodeException("byte segment is not valid UTF-8 (ECI 26)", located: true); }
    }

    private sealed class BitReader(byte[] data)
    {
        private int _pos;
        public int Remaining => data.Length * 8 - _pos;

        public int Read(int n)
        {
            if (n > Remaining) throw new QrDecodeException("the QR data ends in the middle of a segment", located: true);
            var v = 0;
            for (int i = 0; i < n; i++, _pos++) v = (v << 1) | ((data[_pos >> 3] >> (7 - (_pos & 7))) & 1);
            return v;
        }
    }
}

/// <summary>
/// Reed–Solomon error correction over GF(256) with the QR field polynomial x⁸+x⁴+x³+x²+1 (0x11D) and generator roots
/// α⁰…α^(n−1) (ISO/IEC 18004 §7.5.2). Syndromes, then the Euclidean algorithm for the error locator and evaluator,
/// Chien search, and Forney's formula.
/// </summary>
public static class ReedSolomon
{
    private static readonly int[] Exp = new int[512];
    private static readonly int[] Log = new int[256];

    static ReedSolomon()
    {
        var x = 1;
        for (int i = 0; i < 255; i++)
        {
            Exp[i] = x;
            Log[x] = i;
            x <<= 1;
            if (x >= 256) x ^= 0x11D;
        }
        for (int i = 255; i < 512; i++) Exp[i] = Exp[i - 255];
    }

    private static int Mul(int a, int b) => a == 0 || b == 0 ? 0 : Exp[Log[a] + Log[b]];
    private static int Inv(int a) => a == 0 ? throw new QrDecodeException("Reed-Solomon: division by zero", located: true) : Exp[255 - Log[a]];

    /// <summary>Corrects a codeword block in place (data followed by <paramref name="ecc"/> EC codewords); returns how many codewords were wrong.</summary>
    public static int Correct(byte[] block, int ecc)
    {
        // Syndromes S_i = r(α^i); the block's first codeword is the highest-degree coefficient.
        var syndrome = new int[ecc];   // highest degree first: syndrome[ecc - 1 - i] = S_i
        var clean = true;
        for (int i = 0; i < ecc; i++)
        {
            var s = EvalHighFirst(block, Exp[i]);
            syndrome[ecc - 1 - i] = s;
            if (s != 0) clean = false;
        }
        if (clean) return 0;

        var (sigma, omega) = Euclid(Monomial(ecc, 1), Trim(syndrome), ecc);
        var locations = ErrorLocations(sigma);
        for (int i = 0; i < locations.Length; i++)
        {
            var xiInv = Inv(locations[i]);
            var denominator = 1;
            for (int j = 0; j < locations.Length; j++)
                if (i != j) denominator = Mul(denominator, 1 ^ Mul(locations[j], xiInv));
            var magnitude = Mul(Eval(omega, xiInv), Inv(denominator));
            var position = block.Length - 1 - Log[locations[i]];
            if (position < 0) throw new QrDecodeException("too many errors to correct (bad error location)", located: true);
            block[position] ^= (byte)magnitude;
        }
        for (int i = 0; i < ecc; i++)
            if (EvalHighFirst(block, Exp[i]) != 0) throw new QrDecodeException("too many errors to correct", located: true);
        return locations.Length;
    }

    // Polynomials below are int[] with the highest-degree coefficient first, no leading zeros (except the zero polynomial [0]).

    private static int EvalHighFirst(byte[] p, int x)
    {
        var r = 0;
        foreach (var c in p) r = Mul(r, x) ^ c;
        return r;
    }

    private static int Eval(int[] p, int x)
    {
        var r = 0;
        foreach (var c in p) r = Mul(r, x) ^ c;
        return r;
    }

    private static int[] Trim(int[] p)
    {
        var i = 0;
        while (i < p.Length - 1 && p[i] == 0) i++;
        return p[i..];
    }

    private static int Degree(int[] p) => p.Length - 1;
    private static bool IsZero(int[] p) => p[0] == 0;

    private static int[] Monomial(int degree, int coefficient)
    {
        if (coefficient == 0) return [0];
        var p = new int[degree + 1];
        p[0] = coefficient;
        return p;
    }

    private static int[] Add(int[] a, int[] b)
    {
        if (IsZero(a)) return b;
        if (IsZero(b)) return a;
        var (small, large) = a.Length > b.Length ? (b, a) : (a, b);
        var r = (int[])large.Clone();
        var d = large.Length - small.Length;
        for (int i = 0; i < small.Length; i++) r[d + i] ^= small[i];
        return Trim(r);
    }

    private static int[] Multiply(int[] a, int[] b)
    {
        if (IsZero(a) || IsZero(b)) return [0];
        var r = new int[a.Length + b.Length - 1];
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < b.Length; j++) r[i + j] ^= Mul(a[i], b[j]);
        return Trim(r);
    }

    private static int[] Scale(int[] a, int s) => s == 0 ? [0] : Trim(a.Select(c => Mul(c, s)).ToArray());

    private static int[] ShiftScale(int[] a, int degree, int s)
    {
        if (s == 0 || IsZero(a)) return [0];
        var r = new int[a.Length + degree];
        for (int i = 0; i < a.Length; i++) r[i] = Mul(a[i], s);
        return r;
    }

    private static (int[] Sigma, int[] Omega) Euclid(int[] a, int[] b, int r)
    {
        if (Degree(a) < Degree(b)) (a, b) = (b, a);
        int[] rLast = a, rCur = b, tLast = [0], tCur = [1];
        while (2 * Degree(rCur) >= r)
        {
            var rLastLast = rLast; var tLastLast = tLast;
            rLast = rCur; tLast = tCur;
            if (IsZero(rLast)) throw new QrDecodeException("too many errors to correct (r = 0)", located: true);
            rCur = rLastLast;
            int[] q = [0];
            var dltInverse = Inv(rLast[0]);
            while (Degree(rCur) >= Degree(rLast) && !IsZero(rCur))
            {
                var diff = Degree(rCur) - Degree(rLast);
                var scale = Mul(rCur[0], dltInverse);
                q = Add(q, Monomial(diff, scale));
                rCur = Add(rCur, ShiftScale(rLast, diff, scale));
            }
            tCur = Add(Multiply(q, tLast), tLastLast);
            if (Degree(rCur) >= Degree(rLast) && !IsZero(rCur)) throw new QrDecodeException("too many errors to correct (division failed)", located: true);
        }
        var sigmaAtZero = tCur[^1];
        if (sigmaAtZero == 0) throw new QrDecodeException("too many errors to correct (sigma(0) = 0)", located: true);
        var inverse = Inv(sigmaAtZero);
        return (Scale(tCur, inverse), Scale(rCur, inverse));
    }

    private static int[] ErrorLocations(int[] sigma)
    {
        var n = Degree(sigma);
        if (n == 1) return [sigma[0]];   // σ(x) = σ1·x + 1 (normalised): X = σ1
        var result = new int[n];
        var e = 0;
        for (int i = 1; i < 256 && e < n; i++)
            if (Eval(sigma, i) == 0) result[e++] = Inv(i);
        if (e != n) throw new QrDecodeException("too many errors to correct (locator roots)", located: true);
        return result;
    }
}
