using System.Security.Cryptography;

namespace Conformance.Wire.Crypto;

/// <summary>
/// Where random bytes come from. <see cref="System"/> is libsodium's CSPRNG; <see cref="Seeded"/> is a
/// deterministic stream (HMAC-SHA256 in counter mode over the seed) so that one seed fixes every key,
/// nonce and id of a run, and the same seed and code give the same bytes.
/// </summary>
public abstract class Entropy
{
    public static Entropy System { get; } = new SystemEntropy();

    /// <summary>A deterministic stream. Different <paramref name="label"/>s give independent streams for the same seed.</summary>
    public static Entropy Seeded(string seed, string label = "") => new SeededEntropy(seed, label);

    public abstract bool IsDeterministic { get; }

    public abstract void Fill(Span<byte> buffer);

    public byte[] Bytes(int count)
    {
        var b = new byte[count];
        Fill(b);
        return b;
    }

    /// <summary>An RFC 4122 version-4 UUID string drawn from this source (message ids).</summary>
    public string NewUuid()
    {
        Span<byte> b = stackalloc byte[16];
        Fill(b);
        b[6] = (byte)((b[6] & 0x0F) | 0x40);
        b[8] = (byte)((b[8] & 0x3F) | 0x80);
        return Convert.ToHexStringLower(b[..4]) + "-" + Convert.ToHexStringLower(b[4..6]) + "-" +
               Convert.ToHexStringLower(b[6..8]) + "-" + Convert.ToHexStringLower(b[8..10]) + "-" +
               Convert.ToHexStringLower(b[10..16]);
    }

    /// <summary>A child stream: deterministic sources derive an independent labelled stream, the system source returns itself.</summary>
    public abstract Entropy Derive(string label);

    private sealed class SystemEntropy : Entropy
    {
        public override bool IsDeterministic => false;
        public override void Fill(Span<byte> buffer) => Sodium.RandomBytes(buffer);
        public override Entropy Derive(string label) => this;
        public override string ToString() => "Entropy(system)";
    }

    private sealed class SeededEntropy : Entropy
    {
        private readonly string _seed;
        private readonly byte[] _key;
        private ulong _counter;
        private readonly byte[] _block = new byte[32];
        private int _used = 32;
        private readonly Lock _gate = new();

        public SeededEntropy(string seed, string label)
        {
            _seed = seed;
            _key = SHA256.HashData(global::System.Text.Encoding.UTF8.GetBytes("conformance-entropy\0" + seed + "\0" + label));
        }

        public override bool IsDeterministic => true;

        public override void Fill(Span<byte> buffer)
        {
            lock (_gate)
            {
                int written = 0;
                Span<byte> counterBytes = stackalloc byte[8];
                while (written < buffer.Length)
                {
                    if (_used == 32)
                    {
                        global::System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(counterBytes, _counter++);
                        HMACSHA256.HashData(_key, counterBytes, _block);
                        _used = 0;
                    }
                    int n = Math.Min(32 - _used, buffer.Length - written);
                    _block.AsSpan(_used, n).CopyTo(buffer[written..]);
                    _used += n;
                    written += n;
                }
            }
        }

        public override Entropy Derive(string label) => new SeededEntropy(_seed, Convert.ToHexStringLower(_key) + "/" + label);
        public override string ToString() => "Entropy(seeded)";
    }
}
