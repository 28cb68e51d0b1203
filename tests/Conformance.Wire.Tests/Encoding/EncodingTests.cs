using Conformance.Wire.Encoding;

namespace Conformance.Wire.Tests.Encoding;

public class EncodingTests
{
    [TestCase("", "")]
    [TestCase("f", "Zg")]
    [TestCase("fo", "Zm8")]
    [TestCase("foo", "Zm9v")]
    [TestCase("foob", "Zm9vYg")]
    public void Base64url_encodes_RFC4648_vectors_unpadded(string input, string expected)
        => Assert.That(Base64Url.Encode(System.Text.Encoding.ASCII.GetBytes(input)), Is.EqualTo(expected));

    [TestCase("Zm9vYg==")]
    [TestCase("Zm9vYg")]
    public void Base64url_decodes_padded_and_unpadded(string input)
        => Assert.That(System.Text.Encoding.ASCII.GetString(Base64Url.Decode(input)), Is.EqualTo("foob"));

    [Test]
    public void Base64url_accepts_standard_alphabet_and_rejects_garbage()
    {
        Assert.That(Base64Url.Decode("-_8"), Is.EqualTo(Base64Url.Decode("+/8")));
        Assert.Throws<FormatException>(() => Base64Url.Decode("a"));
        Assert.Throws<FormatException>(() => Base64Url.Decode("ab$d"));
    }

    [Test]
    public void Base58_round_trip_keeps_leading_zeros_and_rejects_ambiguous_characters()
    {
        byte[] data = [0, 0, 1, 2, 255];
        Assert.That(Base58.Decode(Base58.Encode(data)), Is.EqualTo(data));
        Assert.That(Base58.Encode("hello world"u8), Is.EqualTo("StV1DL6CwTryKyV"));
        Assert.Throws<FormatException>(() => Base58.Decode("0OIl"));
    }

    [Test]
    public void Multicodec_key_prefixes_match_did_key_examples()
    {
        var (codec, key) = Multibase.DecodeKey("z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
        Assert.That(codec, Is.EqualTo(KeyCodec.Ed25519Pub));
        Assert.That(key, Has.Length.EqualTo(32));
        Assert.That(Multibase.EncodeKey(KeyCodec.Ed25519Pub, key), Is.EqualTo("z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"));
        var (xcodec, _) = Multibase.DecodeKey("z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc");
        Assert.That(xcodec, Is.EqualTo(KeyCodec.X25519Pub));
        Assert.Throws<FormatException>(() => Multibase.DecodeKey("z" + Base58.Encode([0x12, 0x20, 1, 2])));
    }

    [Test]
    public void Varint_round_trips()
    {
        foreach (ulong v in new ulong[] { 0, 1, 0x7f, 0x80, 0xed, 0x1200, 0xffffffff })
            Assert.That(Varint.Decode(Varint.Encode(v)).Value, Is.EqualTo(v));
        Assert.That(Varint.Encode(0xed), Is.EqualTo(new byte[] { 0xed, 0x01 }));
    }
}
