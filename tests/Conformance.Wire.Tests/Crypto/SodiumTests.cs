using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Tests.Crypto;

public class SodiumTests
{
    // RFC 8032 §7.1, TEST 1 (empty message).
    private const string Rfc8032Seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    private const string Rfc8032Public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    private const string Rfc8032Sig = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

    [Test]
    public void Ed25519_matches_RFC8032_test_1()
    {
        var kp = Ed25519KeyPair.FromSeed(Convert.FromHexString(Rfc8032Seed));
        Assert.That(Convert.ToHexStringLower(kp.PublicKey), Is.EqualTo(Rfc8032Public));
        Assert.That(Convert.ToHexStringLower(kp.Sign([])), Is.EqualTo(Rfc8032Sig));
        Assert.That(Ed25519KeyPair.Verify(Convert.FromHexString(Rfc8032Sig), [], kp.PublicKey), Is.True);
        Assert.That(Ed25519KeyPair.Verify(Convert.FromHexString(Rfc8032Sig), [1], kp.PublicKey), Is.False);
    }

    [Test]
    public void X25519_matches_RFC7748_section_6_1()
    {
        var aliceSk = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        var bobPk = Convert.FromHexString("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        Assert.That(Convert.ToHexStringLower(Sodium.X25519PublicFromSecret(aliceSk)),
            Is.EqualTo("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
        Assert.That(Convert.ToHexStringLower(Sodium.X25519(aliceSk, bobPk)),
            Is.EqualTo("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"));
    }

    [Test]
    public void Our_deterministic_sealed_box_opens_with_libsodium_and_vice_versa()
    {
        var recipient = Ed25519KeyPair.Generate(Entropy.System);
        var msg = "hello"u8.ToArray();
        var ours = Sodium.BoxSeal(msg, recipient.X25519Public, Sodium.RandomBytes(32));
        Assert.That(Sodium.BoxSealOpen(ours, recipient.X25519Public, recipient.X25519Secret()), Is.EqualTo(msg));
        var native = Sodium.BoxSealNative(msg, recipient.X25519Public);
        Assert.That(Sodium.BoxSealOpen(native, recipient.X25519Public, recipient.X25519Secret()), Is.EqualTo(msg));
    }

    [Test]
    public void Box_round_trips_and_rejects_a_flipped_bit()
    {
        var a = Ed25519KeyPair.Generate(Entropy.System);
        var b = Ed25519KeyPair.Generate(Entropy.System);
        var nonce = Sodium.RandomBytes(24);
        var c = Sodium.Box("m"u8, nonce, b.X25519Public, a.X25519Secret());
        Assert.That(Sodium.BoxOpen(c, nonce, a.X25519Public, b.X25519Secret()), Is.EqualTo("m"u8.ToArray()));
        c[^1] ^= 1;
        Assert.Throws<CryptoException>(() => Sodium.BoxOpen(c, nonce, a.X25519Public, b.X25519Secret()));
    }

    // RFC 8439 §2.8.2 AEAD_CHACHA20_POLY1305 test vector.
    [Test]
    public void ChaCha20Poly1305_matches_RFC8439_2_8_2()
    {
        var pt = System.Text.Encoding.ASCII.GetBytes("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
        var aad = Convert.FromHexString("50515253c0c1c2c3c4c5c6c7");
        var key = Convert.FromHexString("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        var nonce = Convert.FromHexString("070000004041424344454647");
        var ct = Sodium.ChaCha20Poly1305Encrypt(pt, aad, nonce, key);
        Assert.That(Convert.ToHexStringLower(ct[^16..]), Is.EqualTo("1ae10b594f09e26a7e902ecbd0600691"));
        Assert.That(Convert.ToHexStringLower(ct[..16]), Is.EqualTo("d31a8d34648e60db7b86afbc53ef7ec2"));
        Assert.That(Sodium.ChaCha20Poly1305Decrypt(ct, aad, nonce, key), Is.EqualTo(pt));
        aad[0] ^= 1;
        Assert.Throws<CryptoException>(() => Sodium.ChaCha20Poly1305Decrypt(ct, aad, nonce, key));
    }

    // draft-irtf-cfrg-xchacha-03 §A.3.1 AEAD_XChaCha20_Poly1305 test vector.
    [Test]
    public void XChaCha20Poly1305_matches_draft_irtf_cfrg_xchacha_A_3_1()
    {
        var pt = System.Text.Encoding.ASCII.GetBytes("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
        var aad = Convert.FromHexString("50515253c0c1c2c3c4c5c6c7");
        var key = Convert.FromHexString("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        var nonce = Convert.FromHexString("404142434445464748494a4b4c4d4e4f5051525354555657");
        var ct = Sodium.XChaCha20Poly1305Encrypt(pt, aad, nonce, key);
        Assert.That(Convert.ToHexStringLower(ct[^16..]), Is.EqualTo("c0875924c1c7987947deafd8780acf49"));
        Assert.That(Convert.ToHexStringLower(ct[..16]), Is.EqualTo("bd6d179d3e83d43b9576579493c0e939"));
        Assert.That(Sodium.XChaCha20Poly1305Decrypt(ct, aad, nonce, key), Is.EqualTo(pt));
    }

    [Test]
    public void Ed25519_to_X25519_conversion_agrees_between_public_and_secret_halves()
    {
        var kp = Ed25519KeyPair.Generate(Entropy.System);
        Assert.That(Sodium.X25519PublicFromSecret(kp.X25519Secret()), Is.EqualTo(kp.X25519Public));
    }

    [Test]
    public void Seeded_entropy_is_deterministic_and_label_separated()
    {
        Assert.That(Entropy.Seeded("s").Bytes(40), Is.EqualTo(Entropy.Seeded("s").Bytes(40)));
        Assert.That(Entropy.Seeded("s", "a").Bytes(32), Is.Not.EqualTo(Entropy.Seeded("s", "b").Bytes(32)));
        var e = Entropy.Seeded("s");
        Assert.That(e.NewUuid(), Does.Match("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"));
    }

    [Test]
    public void Key_pair_never_prints_its_secret()
    {
        var kp = Ed25519KeyPair.FromSeed(new byte[32]);
        Assert.That(kp.ToString(), Does.Not.Contain(Base58.Encode(kp.SecretKey)));
        Assert.That(kp.ToString(), Does.Contain(kp.Verkey));
    }

    [Test]
    public void Secret_parsing_accepts_seed_or_full_key_and_rejects_mismatch()
    {
        var kp = Ed25519KeyPair.FromSeed(Convert.FromHexString(Rfc8032Seed));
        Assert.That(Ed25519KeyPair.FromBase58Secret(Base58.Encode(kp.Seed)).Verkey, Is.EqualTo(kp.Verkey));
        Assert.That(Ed25519KeyPair.FromBase58Secret(Base58.Encode(kp.SecretKey)).Verkey, Is.EqualTo(kp.Verkey));
        var bad = kp.SecretKey.ToArray(); bad[40] ^= 1;
        Assert.Throws<CryptoException>(() => Ed25519KeyPair.FromBase58Secret(Base58.Encode(bad)));
        Assert.Throws<CryptoException>(() => Ed25519KeyPair.FromBase58Secret("0OIl"));
    }

    // FIPS 180-2 Appendix B.1 / B.2 (SHA-256 of "abc" and of the 448-bit message), and the empty string.
    [TestCase("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [TestCase("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [TestCase("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void Sha256_matches_FIPS_180_2_examples(string input, string hex)
    {
        var data = System.Text.Encoding.ASCII.GetBytes(input);
        Assert.That(Convert.ToHexStringLower(Sodium.Sha256(data)), Is.EqualTo(hex));
        Assert.That(Sodium.Sha256(data), Is.EqualTo(System.Security.Cryptography.SHA256.HashData(data)));
    }

    [Test]
    public void Sha256_agrees_with_the_BCL_on_every_length_up_to_300_bytes()
    {
        var random = new Random(256);
        for (var n = 0; n <= 300; n++)
        {
            var data = new byte[n];
            random.NextBytes(data);
            Assert.That(Sodium.Sha256(data), Is.EqualTo(System.Security.Cryptography.SHA256.HashData(data)), $"length {n}");
        }
    }
}
