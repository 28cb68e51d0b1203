using Conformance.Wire.Encoding;

namespace Conformance.Wire.Tests.Encoding;

/// <summary>
/// base58btc: known-answer vectors, and the limb-based conversion against SimpleBase's digit-by-digit one (the
/// implementation Base58 used before) on random inputs of every length up to a long-form did:peer:4 and beyond.
/// </summary>
public class Base58Tests
{
    // Bitcoin Core, src/test/data/base58_encode_decode.json (hex → base58).
    [TestCase("", "")]
    [TestCase("61", "2g")]
    [TestCase("626262", "a3gV")]
    [TestCase("636363", "aPEr")]
    [TestCase("73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2")]
    [TestCase("00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L")]
    [TestCase("516b6fcd0f", "ABnLTmg")]
    [TestCase("bf4f89001e670274dd", "3SEo3LWLoPntC")]
    [TestCase("572e4794", "3EFU7m")]
    [TestCase("ecac89cad93923c02321", "EJDM8drfXA6uyA")]
    [TestCase("10c8511e", "Rt5zm")]
    [TestCase("00000000000000000000", "1111111111")]
    // draft-msporny-base58-03 §5 "Test Vectors": 0x0000287fb4cd.
    [TestCase("0000287fb4cd", "11233QC4")]
    public void Known_answer_vectors(string hex, string base58)
    {
        var bytes = Convert.FromHexString(hex);
        Assert.That(Base58.Encode(bytes), Is.EqualTo(base58));
        Assert.That(Base58.Decode(base58), Is.EqualTo(bytes));
    }

    [TestCase("Hello World!", "2NEpo7TZRRrLZSi2U")]
    [TestCase("The quick brown fox jumps over the lazy dog.", "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z")]
    public void Draft_msporny_base58_text_vectors(string text, string base58)
    {
        Assert.That(Base58.Encode(System.Text.Encoding.UTF8.GetBytes(text)), Is.EqualTo(base58));
        Assert.That(System.Text.Encoding.UTF8.GetString(Base58.Decode(base58)), Is.EqualTo(text));
    }

    [FsCheck.NUnit.Property(MaxTest = 300)]
    public void Encodes_like_SimpleBase_and_round_trips(byte[] data, byte leadingZeros, int bulk, int seed)
    {
        // FsCheck's arrays stay short; add leading zeros and up to ~3 KB more so every limb count is covered,
        // including long-form did:peer:4 sizes and inputs past the stackalloc limit.
        var random = new Random(seed);
        var tail = new byte[Math.Abs(bulk % 3000)];
        random.NextBytes(tail);
        byte[] input = [.. new byte[leadingZeros % 5], .. data ?? [], .. tail];
        var encoded = Base58.Encode(input);
        Assert.That(encoded, Is.EqualTo(SimpleBase.Base58.Bitcoin.Encode(input)));
        Assert.That(Base58.Decode(encoded), Is.EqualTo(input));
    }

    [FsCheck.NUnit.Property(MaxTest = 300)]
    public void Decodes_any_base58_text_like_SimpleBase(byte[] picks, byte leadingOnes)
    {
        const string alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        var text = new string('1', leadingOnes % 4) + string.Concat((picks ?? []).Select(p => alphabet[p % 58]));
        Assert.That(Base58.Decode(text), Is.EqualTo(SimpleBase.Base58.Bitcoin.Decode(text).ToArray()));
    }

    [Test]
    public void Every_length_from_0_to_600_bytes_matches_SimpleBase()
    {
        var random = new Random(58);
        for (var n = 0; n <= 600; n++)
        {
            var input = new byte[n];
            random.NextBytes(input);
            if (n % 7 == 0 && n > 0) input[0] = 0;
            var encoded = Base58.Encode(input);
            Assert.That(encoded, Is.EqualTo(SimpleBase.Base58.Bitcoin.Encode(input)), $"length {n}");
            Assert.That(Base58.Decode(encoded), Is.EqualTo(input), $"length {n}");
        }
        // All-0xFF inputs make every limb as large as it gets.
        for (var n = 1; n <= 64; n++)
        {
            var input = Enumerable.Repeat((byte)0xFF, n).ToArray();
            Assert.That(Base58.Encode(input), Is.EqualTo(SimpleBase.Base58.Bitcoin.Encode(input)), $"{n} x 0xFF");
            Assert.That(Base58.Decode(Base58.Encode(input)), Is.EqualTo(input));
        }
    }

    [Test]
    public void Only_ones_and_only_zeros()
    {
        Assert.That(Base58.Decode("111"), Is.EqualTo(new byte[3]));
        Assert.That(Base58.Encode(new byte[3]), Is.EqualTo("111"));
        Assert.That(Base58.Decode(""), Is.Empty);
    }

    [TestCase("0")]
    [TestCase("O")]
    [TestCase("I")]
    [TestCase("l")]
    [TestCase("abc+")]
    [TestCase("é")]
    public void Characters_outside_the_alphabet_are_a_FormatException(string text)
    {
        Assert.Throws<FormatException>(() => Base58.Decode(text));
        Assert.That(Base58.TryDecode(text, out _), Is.False);
    }
}
