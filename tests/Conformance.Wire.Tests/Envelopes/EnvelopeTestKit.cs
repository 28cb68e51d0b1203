using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;
using Conformance.Wire.Envelopes;

namespace Conformance.Wire.Tests.Envelopes;

/// <summary>Keys, lookups and envelope surgery shared by the envelope tests.</summary>
internal static class EnvelopeTestKit
{
    public static Func<string, Ed25519KeyPair?> Holding(params Ed25519KeyPair[] keys)
        => kid => keys.FirstOrDefault(k => k.Verkey == kid);

    public static JsonObject Parse(string envelope) => JsonNode.Parse(envelope)!.AsObject();

    public static JsonObject Header(string envelope)
        => JsonNode.Parse(Base64Url.Decode(Parse(envelope)["protected"]!.GetValue<string>()))!.AsObject();

    /// <summary>Replaces one top-level member (the protected string is then the AAD the recipient checks against).</summary>
    public static string WithField(string envelope, string name, JsonNode? value)
    {
        var o = Parse(envelope);
        o[name] = value;
        return o.ToJsonString();
    }

    public static string WithoutField(string envelope, string name)
    {
        var o = Parse(envelope);
        o.Remove(name);
        return o.ToJsonString();
    }

    /// <summary>Edits the decoded protected header and re-encodes it (unpadded): the AAD no longer matches the tag.</summary>
    public static string WithHeader(string envelope, Action<JsonObject> edit)
    {
        var h = Header(envelope);
        edit(h);
        return WithField(envelope, "protected", Base64Url.Encode(System.Text.Encoding.UTF8.GetBytes(h.ToJsonString())));
    }

    /// <summary>Flips one bit of a base64url field's decoded bytes and re-encodes it in the same padding style.</summary>
    public static string FlipBitIn(string envelope, string name, int byteIndex = 0)
    {
        var text = Parse(envelope)[name]!.GetValue<string>();
        var bytes = Base64Url.Decode(text);
        bytes[byteIndex % bytes.Length] ^= 0x01;
        return WithField(envelope, name, Base64Url.Encode(bytes, padded: text.EndsWith('=')));
    }

    public static void AssertReadable(EnvelopeException e, params Ed25519KeyPair[] secretsThatMustNotAppear)
    {
        Assert.That(e.Message, Is.Not.Empty);
        Assert.That(e.Message, Does.Not.Contain("\n").And.Not.Contain("\r"), "one-line message");
        foreach (var k in secretsThatMustNotAppear)
        {
            Assert.That(e.Message, Does.Not.Contain(Base58.Encode(k.SecretKey)));
            Assert.That(e.Message, Does.Not.Contain(Base58.Encode(k.Seed)));
            Assert.That(e.Message, Does.Not.Contain(Convert.ToHexStringLower(k.Seed)));
        }
    }
}

/// <summary>
/// A second, deliberately independent RFC 0019 packer written straight from the README's "pack output format" with
/// libsodium primitives (libsodium's own random <c>crypto_box_seal</c>, Python-style spaced JSON, padded base64url
/// by default). It exists so the unpacker's tolerance and strictness can be tested on envelopes our Pack would
/// never produce, and with a protected header that still authenticates (so the error comes from the check under
/// test, not from the tag).
/// </summary>
internal static class ManualEnvelope
{
    public sealed record Options
    {
        public bool Padded { get; init; } = true;
        public bool XChaCha { get; init; }
        public string Enc { get; init; } = "xchacha20poly1305_ietf";
        public string? Alg { get; init; }
        /// <summary>Authcrypt only: the text sealed as "sender" (defaults to the sender's verkey).</summary>
        public string? SenderText { get; init; }
        /// <summary>Last-moment edit of the protected header, before it is encoded and used as AAD.</summary>
        public Action<JsonObject>? EditHeader { get; init; }
    }

    public static string Build(byte[] plaintext, IReadOnlyList<Ed25519KeyPair> recipients, Ed25519KeyPair? sender, Options? options = null)
    {
        options ??= new Options();
        string B64(byte[] b) => Base64Url.Encode(b, options.Padded);
        var cek = Sodium.RandomBytes(32);
        var list = new JsonArray();
        foreach (var r in recipients)
        {
            var header = new JsonObject { ["kid"] = r.Verkey };
            string encryptedKey;
            if (sender is not null)
            {
                var nonce = Sodium.RandomBytes(24);
                encryptedKey = B64(Sodium.Box(cek, nonce, r.X25519Public, sender.X25519Secret()));
                header["sender"] = B64(Sodium.BoxSealNative(System.Text.Encoding.UTF8.GetBytes(options.SenderText ?? sender.Verkey), r.X25519Public));
                header["iv"] = B64(nonce);
            }
            else
            {
                encryptedKey = B64(Sodium.BoxSealNative(cek, r.X25519Public));
            }
            list.Add(new JsonObject { ["encrypted_key"] = encryptedKey, ["header"] = header });
        }
        var protectedHeader = new JsonObject
        {
            ["enc"] = options.Enc,
            ["typ"] = "JWM/1.0",
            ["alg"] = options.Alg ?? (sender is null ? "Anoncrypt" : "Authcrypt"),
            ["recipients"] = list,
        };
        options.EditHeader?.Invoke(protectedHeader);
        // Python's json.dumps default separators (", " and ": "), as in the ACA-Py-made vectors.
        var headerJson = protectedHeader.ToJsonString().Replace("\",\"", "\", \"").Replace("\":", "\": ").Replace("},{", "}, {");
        string protectedB64 = B64(System.Text.Encoding.UTF8.GetBytes(headerJson));
        var aad = System.Text.Encoding.ASCII.GetBytes(protectedB64);
        var iv = Sodium.RandomBytes(options.XChaCha ? 24 : 12);
        var sealedContent = options.XChaCha
            ? Sodium.XChaCha20Poly1305Encrypt(plaintext, aad, iv, cek)
            : Sodium.ChaCha20Poly1305Encrypt(plaintext, aad, iv, cek);
        return new JsonObject
        {
            ["protected"] = protectedB64,
            ["iv"] = B64(iv),
            ["ciphertext"] = B64(sealedContent[..^16]),
            ["tag"] = B64(sealedContent[^16..]),
        }.ToJsonString();
    }
}
