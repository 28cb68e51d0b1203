// A PNG reader just big enough for the QR decoder (QrDecoder.cs): it turns a PNG (W3C PNG Specification, 2nd ed.,
// §11 chunks IHDR/PLTE/IDAT/tRNS, §9 filtering, §10 zlib compression) into one luminance byte per pixel, with any
// alpha composited onto white. Handles every non-interlaced colour type and bit depth: greyscale 1/2/4/8/16,
// truecolour 8/16, palette 1/2/4/8, greyscale+alpha and truecolour+alpha 8/16 — which covers Chromium's screenshots
// (truecolour 8, with or without alpha) and QRCoder's PNGs (1-bit palette or greyscale). Adam7-interlaced images are
// refused with a clear message (no screenshot or QR generator we meet writes them). Chunk CRCs are not checked; the
// zlib stream's own Adler-32 catches a damaged image.
using System.Buffers.Binary;
using System.IO.Compression;

namespace Conformance.Harness.Browser;

/// <summary>A decoded image as luminance (0 = black, 255 = white), row-major.</summary>
public sealed class PngImage
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public PngImage(int width, int height, byte[] luminance)
    {
        if (width <= 0 || height <= 0 || luminance.Length != width * height)
            throw new ImageFormatException($"a {width}x{height} image needs {width * height} pixels, not {luminance.Length}");
        Width = width;
        Height = height;
        Luminance = luminance;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Luminance { get; }

    public byte this[int x, int y] => Luminance[y * Width + x];

    public static PngImage Load(string path) => Decode(File.ReadAllBytes(path));

    public static PngImage Decode(ReadOnlySpan<byte> png)
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(Signature)) throw new ImageFormatException("not a PNG file (bad signature)");
        int width = 0, height = 0, depth = 0, colorType = -1;
        byte[]? palette = null, paletteAlpha = null;
        using var idat = new MemoryStream();
        var pos = 8;
        var sawEnd = false;
        while (pos + 8 <= png.Length && !sawEnd)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            var type = System.Text.Encoding.ASCII.GetString(png.Slice(pos + 4, 4));
            if (length > int.MaxValue || pos + 12 + (long)length > png.Length) throw new ImageFormatException($"PNG chunk {type} runs past the end of the file");
            var data = png.Slice(pos + 8, (int)length);
            switch (type)
            {
                case "IHDR":
                    if (data.Length != 13) throw new ImageFormatException("PNG IHDR chunk has the wrong size");
                    width = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data));
                    height = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data[4..]));
                    depth = data[8];
                    colorType = data[9];
                    if (data[10] != 0 || data[11] != 0) throw new ImageFormatException("unknown PNG compression or filter method");
                    if (data[12] != 0) throw new ImageFormatException("interlaced (Adam7) PNGs are not supported");
                    if (width <= 0 || height <= 0 || (long)width * height > 64L * 1024 * 1024)
                        throw new ImageFormatException($"unsupported PNG size {width}x{height}");
                    break;
                case "PLTE": palette = data.ToArray(); break;
                case "tRNS": paletteAlpha = data.ToArray(); break;
                case "IDAT": idat.Write(data); break;
                case "IEND": sawEnd = true; break;
            }
            pos += 12 + (int)length;
        }
        if (colorType < 0) throw new ImageFormatException("PNG has no IHDR chunk");
        var channels = colorType switch
        {
            0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4,
            _ => throw new ImageFormatException($"unknown PNG colour type {colorType}"),
        };
        var validDepth = colorType switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            _ => depth is 8 or 16,
        };
        if (!validDepth) throw new ImageFormatException($"bit depth {depth} is not valid for PNG colour type {colorType}");
        if (colorType == 3 && palette == null) throw new ImageFormatException("palette PNG without a PLTE chunk");

        var bitsPerPixel = channels * depth;
        var stride = (width * bitsPerPixel + 7) / 8;
        var bpp = Math.Max(1, bitsPerPixel / 8);
        var raw = Inflate(idat.ToArray(), (long)(stride + 1) * height);
        var lum = new byte[width * height];
        var prev = new byte[stride];
        var line = new byte[stride];
        for (int y = 0; y < height; y++)
        {
            var off = y * (stride + 1);
            var filter = raw[off];
            Array.Copy(raw, off + 1, line, 0, stride);
            Unfilter(filter, line, prev, bpp);
            for (int x = 0; x < width; x++) lum[y * width + x] = Pixel(line, x, colorType, depth, palette, paletteAlpha);
            (prev, line) = (line, prev);
        }
        return new PngImage(width, height, lum);
    }

    private static byte[] Inflate(byte[] zlib, long expected)
    {
        try
        {
            using var z = new ZLibStream(new MemoryStream(zlib), CompressionMode.Decompress);
            var outBuf = new byte[expected];
            var read = 0;
            while (read < outBuf.Length)
            {
                var n = z.Read(outBuf, read, outBuf.Length - read);
                if (n == 0) break;
                read += n;
            }
            if (read != outBuf.Length) throw new ImageFormatException($"PNG image data is truncated ({read} of {expected} bytes)");
            return outBuf;
        }
        catch (InvalidDataException e)
        {
            throw new ImageFormatException("PNG image data is damaged: " + e.Message);
        }
    }

    private static void Unfilter(byte filter, byte[] line, byte[] prev, int bpp)
    {
        switch (filter)
        {
            case 0: return;
            case 1: for (int i = bpp; i < line.Length; i++) line[i] += line[i - bpp]; return;
            case 2: for (int i = 0; i < line.Length; i++) line[i] += prev[i]; return;
            case 3:
                for (int i = 0; i < line.Length; i++)
                    line[i] += (byte)(((i >= bpp ? line[i - bpp] : 0) + prev[i]) >> 1);
                return;
            case 4:
                for (int i = 0; i < line.Length; i++)
                {
                    int a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                    int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    line[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
                return;
            default: throw new ImageFormatException($"unknown PNG filter type {filter}");
        }
    }

    /// <summary>Sample <paramref name="index"/> of a scanline at <paramref name="depth"/> bits, scaled to 0..255.</summary>
    private static int Sample(byte[] line, int index, int depth)
    {
        switch (depth)
        {
            case 8: return line[index];
            case 16: return line[index * 2];
            default:
                var bit = index * depth;
                var v = (line[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
                return v * 255 / ((1 << depth) - 1);
        }
    }

    private static byte Pixel(byte[] line, int x, int colorType, int depth, byte[]? palette, byte[]? paletteAlpha)
    {
        int r, g, b, a = 255;
        switch (colorType)
        {
            case 0: r = g = b = Sample(line, x, depth); break;
            case 2: r = Sample(line, x * 3, depth); g = Sample(line, x * 3 + 1, depth); b = Sample(line, x * 3 + 2, depth); break;
            case 3:
                var bit = x * depth;
                var idx = depth == 8 ? line[x] : (line[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
                if (idx * 3 + 2 >= palette!.Length) throw new ImageFormatException($"PNG palette index {idx} is out of range");
                r = palette[idx * 3]; g = palette[idx * 3 + 1]; b = palette[idx * 3 + 2];
                if (paletteAlpha != null && idx < paletteAlpha.Length) a = paletteAlpha[idx];
                break;
            case 4: r = g = b = Sample(line, x * 2, depth); a = Sample(line, x * 2 + 1, depth); break;
            default: r = Sample(line, x * 4, depth); g = Sample(line, x * 4 + 1, depth); b = Sample(line, x * 4 + 2, depth); a = Sample(line, x * 4 + 3, depth); break;
        }
        // ITU-R BT.601 luma, composited onto a white background.
        var y = (299 * r + 587 * g + 114 * b) / 1000;
        return (byte)((y * a + 255 * (255 - a)) / 255);
    }
}

/// <summary>An image could not be read. The message says why in one line.</summary>
public sealed class ImageFormatException(string message) : Exception(message);
