using Ascii = System.Text.Encoding;
using Conformance.Wire.Crypto;
using Conformance.Wire.DidComm2;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Tests.DidComm2;

/// <summary>
/// Known-answer tests for the JOSE primitives, each against the published vector of its RFC / draft.
/// Every expected value below is copied from the cited document, never produced by this code.
/// </summary>
public class PrimitiveVectorTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(string.Concat(s.Where(Uri.IsHexDigit)));

    // ------------------------------------------------------------------ RFC 3394 §4 (AES key wrap)

    private const string Kek128 = "000102030405060708090A0B0C0D0E0F";
    private const string Kek256 = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";

    // RFC 3394 §4.3 "Wrap 128 bits of Key Data with a 256-bit KEK"
    [TestCase(Kek256, "00112233445566778899AABBCCDDEEFF", "64E8C3F9CE0F5BA2 63E9777905818A2A 93C8191E7D6E8AE7", TestName = "RFC3394_4_3_wrap_128_bits_with_256_bit_KEK")]
    // RFC 3394 §4.5 "Wrap 192 bits of Key Data with a 256-bit KEK"
    [TestCase(Kek256, "00112233445566778899AABBCCDDEEFF0001020304050607",
        "A8F9BC1612C68B3F F6E6F4FBE30E71E4 769C8B80A32CB895 8CD5D17D6B254DA1", TestName = "RFC3394_4_5_wrap_192_bits_with_256_bit_KEK")]
    // RFC 3394 §4.6 "Wrap 256 bits of Key Data with a 256-bit KEK"
    [TestCase(Kek256, "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
        "28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21", TestName = "RFC3394_4_6_wrap_256_bits_with_256_bit_KEK")]
    // RFC 3394 §4.1 "Wrap 128 bits of Key Data with a 128-bit KEK" (A128KW, used by the ECDH-1PU draft's Appendix B)
    [TestCase(Kek128, "00112233445566778899AABBCCDDEEFF", "1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5", TestName = "RFC3394_4_1_wrap_128_bits_with_128_bit_KEK")]
    public void Aes_key_wrap_matches_RFC3394(string kek, string keyData, string ciphertext)
    {
        Assert.That(AesKeyWrap.Wrap(Hex(kek), Hex(keyData)), Is.EqualTo(Hex(ciphertext)));
        Assert.That(AesKeyWrap.Unwrap(Hex(kek), Hex(ciphertext)), Is.EqualTo(Hex(keyData)));
    }

    [Test]
    public void Aes_key_unwrap_rejects_a_flipped_bit_and_a_wrong_KEK_and_bad_lengths()
    {
        var wrapped = Hex("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21");
        for (int i = 0; i < wrapped.Length; i++)
        {
            var bad = (byte[])wrapped.Clone();
            bad[i] ^= 0x01;
            Assert.Throws<JoseException>(() => AesKeyWrap.Unwrap(Hex(Kek256), bad), $"bit flip at byte {i}");
        }
        var otherKek = Hex(Kek256);
        otherKek[31] ^= 0x80;
        Assert.Throws<JoseException>(() => AesKeyWrap.Unwrap(otherKek, wrapped));
        Assert.Throws<JoseException>(() => AesKeyWrap.Unwrap(Hex(Kek256), wrapped[..^1]));
        Assert.Throws<JoseException>(() => AesKeyWrap.Unwrap(Hex(Kek256), wrapped[..16]));
        Assert.Throws<JoseException>(() => AesKeyWrap.Wrap(Hex(Kek256), new byte[8]));
        Assert.Throws<JoseException>(() => AesKeyWrap.Wrap(new byte[20], new byte[16]));
    }

    // ------------------------------------------------------------------ ConcatKDF

    // RFC 7518 Appendix C "Example ECDH-ES Key Agreement Computation": Z (the P-256 ECDH output) is given as octets;
    // alg/enc "A128GCM" (direct mode, so AlgorithmID = enc), apu "Alice", apv "Bob", keydatalen 128.
    [Test]
    public void ConcatKdf_matches_RFC7518_appendix_C()
    {
        byte[] z =
        [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156,
            251, 49, 110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
        ];
        var derived = ConcatKdf.Derive(z, 128, "A128GCM", "Alice"u8, "Bob"u8);
        Assert.That(derived, Is.EqualTo(new byte[] { 86, 170, 141, 234, 248, 35, 109, 32, 92, 34, 40, 205, 113, 167, 16, 26 }));
        Assert.That(Base64Url.Encode(derived), Is.EqualTo("VqqN6vgjbSBcIijNcacQGg"));
    }

    // draft-madden-jose-ecdh-1pu-04 Appendix A (P-256, direct key agreement with A256GCM): Z = Ze || Zs where Ze is the
    // RFC 7518 Appendix C value and Zs = e3ca3474...; apu "Alice", apv "Bob"; derived key 6caf1372...
    // (the same Z and key are asserted by Hyperledger Aries Askar, askar-crypto/src/kdf/ecdh_1pu.rs expected_1pu_direct_output).
    [Test]
    public void ConcatKdf_matches_ECDH_1PU_draft_04_appendix_A()
    {
        var z = Hex("9e56d91d817135d372834283bf84269cfb316ea3da806a48f6daa7798cfe90c4" +
                    "e3ca3474384c9f62b30bfd4c688b3e7d4110a1b4badc3cc54ef7b81241efd50d");
        Assert.That(ConcatKdf.Derive(z, 256, "A256GCM", "Alice"u8, "Bob"u8),
            Is.EqualTo(Hex("6caf13723d14850ad4b42cd6dde935bffd2fff00a9ba70de05c203a5e1722ca7")));
    }

    // draft-madden-jose-ecdh-1pu-04 Appendix B: ECDH-1PU+A128KW with A256CBC-HS512, X25519, sender Alice, recipients Bob
    // and Charlie. Keys, CEK, IV, protected header, ciphertext, tag and encrypted keys below are the draft's; Bob's KEK
    // (df4c37a0...) is also asserted by askar-crypto expected_1pu_wrapped_output. This exercises Ze||Zs from libsodium,
    // the tag-in-SuppPubInfo KDF, A128KW and A256CBC-HS512 end to end.
    private static class Draft1PuAppendixB
    {
        public static readonly OkpKey Alice = OkpKey.FromJwk("""{"kty":"OKP","crv":"X25519","x":"Knbm_BcdQr7WIoz-uqit9M0wbcfEr6y-9UfIZ8QnBD4","d":"i9KuFhSzEBsiv3PKVL5115OCdsqQai5nj_Flzfkw5jU"}""", "alice");
        public static readonly OkpKey Bob = OkpKey.FromJwk("""{"kty":"OKP","crv":"X25519","x":"BT7aR0ItXfeDAldeeOlXL_wXqp-j5FltT0vRSG16kRw","d":"1gDirl_r_Y3-qUa3WXHgEXrrEHngWThU3c9zj9A2uBg"}""", "bob-key-2");
        public static readonly OkpKey Charlie = OkpKey.FromJwk("""{"kty":"OKP","crv":"X25519","x":"q-LsvU772uV_2sPJhfAIq-3vnKNVefNoIlvyvg1hrnE","d":"Jcv8gklhMjC0b-lsk5onBbppWAx5ncNtbM63Jr9xBQE"}""", "2021-05-06");
        public static readonly OkpKey Ephemeral = OkpKey.FromJwk("""{"kty":"OKP","crv":"X25519","x":"k9of_cpAajy0poW5gaixXGs9nHkwg1AFqUAFa39dyBc","d":"x8EVZH4Fwk673_mUujnliJoSrLz0zYzzCWp5GUX2fc8"}""", "ephemeral");

        public const string Protected =
            "eyJhbGciOiJFQ0RILTFQVStBMTI4S1ciLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwiYXB1IjoiUVd4cFkyVSIsImFwdiI6IlFtOWlJR0Z1WkNCRGFHRnliR2xsIiwiZXBrIjp7Imt0eSI6Ik9LUCIsImNydiI6IlgyNTUxOSIsIngiOiJrOW9mX2NwQWFqeTBwb1c1Z2FpeFhHczluSGt3ZzFBRnFVQUZhMzlkeUJjIn19";
        public static readonly byte[] Cek = Hex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0dfdedddcdbdad9d8d7d6d5d4d3d2d1d0cfcecdcccbcac9c8c7c6c5c4c3c2c1c0");
        public static readonly byte[] Iv = Hex("000102030405060708090a0b0c0d0e0f");
        public const string Ciphertext = "Az2IWsISEMDJvyc5XRL-3-d-RgNBOGolCsxFFoUXFYw";
        public const string Tag = "HLb4fTlm8spGmij3RyOs2gJ4DpHM4hhVRwdF_hGb3WQ";
        public const string BobEncryptedKey = "pOMVA9_PtoRe7xXW1139NzzN1UhiFoio8lGto9cf0t8PyU-sjNXH8-LIRLycq8CHJQbDwvQeU1cSl55cQ0hGezJu2N9IY0QN";
        public const string CharlieEncryptedKey = "56GVudgRLIMEElQ7DpXsijJVRSWUSDNdbWkdV3g0GUNq6hcT_GkxwnxlPIWrTXCqRpVKQC8fe4z3PQ2YH2afvjQ28aiCTWFE";
    }

    [Test]
    public void Ecdh1pu_draft_04_appendix_B_content_encryption_matches()
    {
        var aad = Ascii.ASCII.GetBytes(Draft1PuAppendixB.Protected);
        var (ciphertext, tag) = ContentEncryption.Encrypt(ContentAlg.A256CbcHs512, Draft1PuAppendixB.Cek, Draft1PuAppendixB.Iv, aad,
            "Three is a magic number."u8);
        Assert.That(Base64Url.Encode(ciphertext), Is.EqualTo(Draft1PuAppendixB.Ciphertext));
        Assert.That(Base64Url.Encode(tag), Is.EqualTo(Draft1PuAppendixB.Tag));
    }

    [Test]
    public void Ecdh1pu_draft_04_appendix_B_KEK_for_Bob_matches_and_both_recipients_unwrap_the_CEK()
    {
        var tag = Base64Url.Decode(Draft1PuAppendixB.Tag);
        foreach (var (recipient, encryptedKey) in new[]
                 {
                     (Draft1PuAppendixB.Bob, Draft1PuAppendixB.BobEncryptedKey),
                     (Draft1PuAppendixB.Charlie, Draft1PuAppendixB.CharlieEncryptedKey),
                 })
        {
            // Sender side: Ze = X25519(esk, Bob), Zs = X25519(Alice, Bob).
            byte[] zSender = [.. Sodium.X25519(Draft1PuAppendixB.Ephemeral.Secret!, recipient.Public), .. Sodium.X25519(Draft1PuAppendixB.Alice.Secret!, recipient.Public)];
            // Recipient side: Ze = X25519(Bob, epk), Zs = X25519(Bob, Alice) — must agree.
            byte[] zRecipient = [.. Sodium.X25519(recipient.Secret!, Draft1PuAppendixB.Ephemeral.Public), .. Sodium.X25519(recipient.Secret!, Draft1PuAppendixB.Alice.Public)];
            Assert.That(zRecipient, Is.EqualTo(zSender));

            var kek = ConcatKdf.Derive(zRecipient, 128, "ECDH-1PU+A128KW", "Alice"u8, "Bob and Charlie"u8, tag);
            if (recipient == Draft1PuAppendixB.Bob)
                Assert.That(kek, Is.EqualTo(Hex("df4c37a0668306a11e3d6b0074b5d8df")), "Bob's KEK (draft-04 Appendix B)");
            Assert.That(AesKeyWrap.Unwrap(kek, Base64Url.Decode(encryptedKey)), Is.EqualTo(Draft1PuAppendixB.Cek), recipient.Kid);
            Assert.That(Base64Url.Encode(AesKeyWrap.Wrap(kek, Draft1PuAppendixB.Cek)), Is.EqualTo(encryptedKey), recipient.Kid);
        }
    }

    [Test]
    public void Ecdh1pu_without_the_tag_in_SuppPubInfo_does_not_unwrap_the_draft_example()
    {
        // Guards the draft-04 §2.3 change (tag appended to SuppPubInfo): the draft-03 KDF must not reproduce Bob's KEK.
        var b = Draft1PuAppendixB.Bob;
        byte[] z = [.. Sodium.X25519(b.Secret!, Draft1PuAppendixB.Ephemeral.Public), .. Sodium.X25519(b.Secret!, Draft1PuAppendixB.Alice.Public)];
        var kek = ConcatKdf.Derive(z, 128, "ECDH-1PU+A128KW", "Alice"u8, "Bob and Charlie"u8);
        Assert.Throws<JoseException>(() => AesKeyWrap.Unwrap(kek, Base64Url.Decode(Draft1PuAppendixB.BobEncryptedKey)));
    }

    // ------------------------------------------------------------------ content encryption

    // RFC 7518 Appendix B.3 "Test Cases for AES_256_CBC_HMAC_SHA_512".
    [Test]
    public void A256CbcHs512_matches_RFC7518_appendix_B3()
    {
        var k = Hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
                    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f");
        var p = Ascii.ASCII.GetBytes("A cipher system must not be required to be secret, and it must be able to fall into the hands of the enemy without inconvenience");
        var iv = Hex("1a f3 8c 2d c2 b9 6f fd d8 66 94 09 23 41 bc 04");
        var a = Ascii.ASCII.GetBytes("The second principle of Auguste Kerckhoffs");
        var e = Hex("""
            4a ff aa ad b7 8c 31 c5 da 4b 1b 59 0d 10 ff bd
            3d d8 d5 d3 02 42 35 26 91 2d a0 37 ec bc c7 bd
            82 2c 30 1d d6 7c 37 3b cc b5 84 ad 3e 92 79 c2
            e6 d1 2a 13 74 b7 7f 07 75 53 df 82 94 10 44 6b
            36 eb d9 70 66 29 6a e6 42 7e a7 5c 2e 08 46 a1
            1a 09 cc f5 37 0d c8 0b fe cb ad 28 c7 3f 09 b3
            a3 b7 5e 66 2a 25 94 41 0a e4 96 b2 e2 e6 60 9e
            31 e6 e0 2c c8 37 f0 53 d2 1f 37 ff 4f 51 95 0b
            be 26 38 d0 9d d7 a4 93 09 30 80 6d 07 03 b1 f6
            """);
        var t = Hex("""
            4d d3 b4 c0 88 a7 f4 5c 21 68 39 64 5b 20 12 bf
            2e 62 69 a8 c5 6a 81 6d bc 1b 26 77 61 95 5b c5
            """);
        var (ciphertext, tag) = ContentEncryption.Encrypt(ContentAlg.A256CbcHs512, k, iv, a, p);
        Assert.That(ciphertext, Is.EqualTo(e));
        Assert.That(tag, Is.EqualTo(t));
        Assert.That(ContentEncryption.Decrypt(ContentAlg.A256CbcHs512, k, iv, a, e, t), Is.EqualTo(p));

        var badTag = (byte[])t.Clone();
        badTag[31] ^= 1;
        Assert.Throws<JoseException>(() => ContentEncryption.Decrypt(ContentAlg.A256CbcHs512, k, iv, a, e, badTag));
        Assert.Throws<JoseException>(() => ContentEncryption.Decrypt(ContentAlg.A256CbcHs512, k, iv, a[..^1], e, t));
    }

    // RFC 7516 Appendix A.1 (RSAES-OAEP and AES GCM): the A256GCM content step with its CEK, IV and AAD
    // (the encoded protected header {"alg":"RSA-OAEP","enc":"A256GCM"}).
    [Test]
    public void A256Gcm_matches_RFC7516_appendix_A1()
    {
        byte[] cek =
        [
            177, 161, 244, 128, 84, 143, 225, 115, 63, 180, 3, 255, 107, 154, 212, 246,
            138, 7, 110, 91, 112, 46, 34, 105, 47, 130, 203, 46, 122, 234, 64, 252,
        ];
        byte[] iv = [227, 197, 117, 252, 2, 219, 233, 68, 180, 225, 77, 219];
        var aad = Ascii.ASCII.GetBytes("eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ");
        var p = Ascii.ASCII.GetBytes("The true sign of intelligence is not knowledge but imagination.");
        var (ciphertext, tag) = ContentEncryption.Encrypt(ContentAlg.A256Gcm, cek, iv, aad, p);
        Assert.That(Base64Url.Encode(ciphertext), Is.EqualTo("5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A"));
        Assert.That(Base64Url.Encode(tag), Is.EqualTo("XFBoMYUZodetZdvTiFvSkQ"));
        Assert.That(ContentEncryption.Decrypt(ContentAlg.A256Gcm, cek, iv, aad, ciphertext, tag), Is.EqualTo(p));
        tag[0] ^= 1;
        Assert.Throws<JoseException>(() => ContentEncryption.Decrypt(ContentAlg.A256Gcm, cek, iv, aad, ciphertext, tag));
    }

    [Test]
    public void Content_encryption_rejects_wrong_key_and_IV_sizes_with_JoseException()
    {
        foreach (var alg in Enum.GetValues<ContentAlg>())
        {
            var key = new byte[ContentEncryption.KeyLength(alg)];
            var iv = new byte[ContentEncryption.IvLength(alg)];
            Assert.Throws<JoseException>(() => ContentEncryption.Encrypt(alg, key[..^1], iv, [], [1]));
            Assert.Throws<JoseException>(() => ContentEncryption.Encrypt(alg, key, iv[..^1], [], [1]));
            var (c, t) = ContentEncryption.Encrypt(alg, key, iv, [], [1, 2, 3]);
            Assert.That(ContentEncryption.Decrypt(alg, key, iv, [], c, t), Is.EqualTo(new byte[] { 1, 2, 3 }));
            Assert.Throws<JoseException>(() => ContentEncryption.Decrypt(alg, key, iv, [], c, t[..^1]));
        }
    }

    [Test]
    public void Media_types_accept_the_prefixless_form()
    {
        // message_structure.md: "the recipient MUST treat media types not containing / as having the application/ prefix present."
        Assert.That(MediaTypes.Is("didcomm-encrypted+json", MediaTypes.Encrypted));
        Assert.That(MediaTypes.Is("application/didcomm-signed+json", MediaTypes.Signed));
        Assert.That(MediaTypes.Is("application/didcomm-plain+json", MediaTypes.Signed), Is.False);
    }
}
