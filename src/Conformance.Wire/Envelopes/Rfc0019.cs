// Aries RFC 0019: Encryption Envelope (DIDComm v1 pack/unpack).
// specs: shared/specs/aries-rfcs/0019-encryption-envelope/README.md ("Pack Message", "Unpack Message") and schema.md.
//
// Wire format we emit (README "pack output format"):
//   {"protected":b64url(header),"iv":b64url(iv),"ciphertext":b64url(c),"tag":b64url(tag)}
//   header = {"enc":"xchacha20poly1305_ietf","typ":"JWM/1.0","alg":"Authcrypt"|"Anoncrypt",
//             "recipients":[{"encrypted_key":..,"header":{"kid":verkey[,"sender":..,"iv":..]}}]}
//   content = AEAD(message, aad = ASCII bytes of the protected base64url string, iv, cek)
//   authcrypt: encrypted_key = crypto_box(cek, cek_iv, recipient X25519, sender X25519)
//              sender        = crypto_box_seal(base58 sender verkey as a string, recipient X25519)
//              iv            = cek_iv (24 bytes)
//   anoncrypt: encrypted_key = crypto_box_seal(cek, recipient X25519)
//
// Two deliberate choices, both checked against what deployed agents emit:
//
// 1. Content cipher. The README's algorithm step 4 says
//    "libsodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(message, protected_value_encoded, iv, cek)",
//    i.e. ChaCha20-Poly1305-IETF with a 12-byte iv, while the header label says "xchacha20poly1305_ietf"; the
//    README's own examples carry 12-byte ivs. indy-sdk, ACA-Py (askar KeyAlg.C20P) and Credo 0.6 (kms 'C20P',
//    which on Node has no XChaCha at all) all emit exactly that: a 12-byte iv under the xchacha label, and they
//    decrypt with C20P only, so a 24-byte-iv envelope would not open there. We therefore pack with the 12-byte
//    cipher and the xchacha label by default (PackOptions.Cipher selects real XChaCha20 for tests/misbehaviour).
//    Unpacking picks the cipher by iv length whatever `enc` says: 12 bytes => chacha20poly1305_ietf,
//    24 bytes => xchacha20poly1305_ietf (aries-framework-go emits the latter).
//
// 2. base64url padding. The README's examples are padded (indy-sdk); ACA-Py ("unpadded base64-URL") and Credo
//    emit unpadded. We emit unpadded by default (PackOptions.PaddedBase64 switches). The README requires:
//    "the base64url decode implementation used MUST correctly decode padded and unpadded base64URL encoded data."
//    We do, everywhere; the AAD is always the protected string exactly as received, padding included.
//
// Strictness on unpack mirrors ACA-Py's checks (duplicate kids, sender/iv pairing, alg consistency) plus what
// the crypto demands: the tag must verify over the received protected string, the recipient must be a key we
// hold, and in authcrypt the decrypted sender must be a 32-byte base58 Ed25519 key that the crypto_box opens with.
// Every failure is an EnvelopeException; nothing else escapes on bad input.

using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Envelopes;

public static class Rfc0019
{
    /// <summary>Envelopes (and packed results) larger than this are rejected with <see cref="EnvelopeError.TooLarge"/>.</summary>
    public const int MaxEnvelopeBytes = 10 * 1024 * 1024;

    /// <summary>The <c>enc</c> label every agent writes (schema.md: <c>"enum": ["xchacha20poly1305_ietf"]</c>).</summary>
    public const string EncXChaCha20Poly1305Ietf = "xchacha20poly1305_ietf";

    /// <summary>The label aries-framework-go's anoncrypt writes for the 12-byte cipher.</summary>
    public const string EncChaCha20Poly1305Ietf = "chacha20poly1305_ietf";

    /// <summary>The misspelling in the README's "pack output format" templates; accepted on unpack.</summary>
    private const string EncReadmeTemplateSpelling = "xchachapoly1305_ietf";

    public const string Typ = "JWM/1.0";
    public const string AlgAuthcrypt = "Authcrypt";
    public const string AlgAnoncrypt = "Anoncrypt";

    private const int CekBytes = 32;

    private static readonly JsonDocumentOptions DocOptions = new() { MaxDepth = 64 };
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // ================================================================ pack

    /// <summary>
    /// Packs <paramref name="plaintext"/> for one or more recipients (base58 Ed25519 verkeys).
    /// <paramref name="sender"/> null means anoncrypt. All randomness (cek, iv, nonces, sealed-box ephemeral keys)
    /// comes from <paramref name="entropy"/>, so a seeded source gives byte-identical output.
    /// </summary>
    public static string Pack(ReadOnlySpan<byte> plaintext, IReadOnlyList<string> recipientVerkeys, Ed25519KeyPair? sender, Entropy entropy)
        => Pack(plaintext, recipientVerkeys, sender, entropy, PackOptions.Default);

    /// <summary>Packs the UTF-8 bytes of <paramref name="plaintextJson"/> (not re-serialized).</summary>
    public static string Pack(string plaintextJson, IReadOnlyList<string> recipientVerkeys, Ed25519KeyPair? sender, Entropy entropy)
    {
        ArgumentNullException.ThrowIfNull(plaintextJson);
        return Pack(System.Text.Encoding.UTF8.GetBytes(plaintextJson), recipientVerkeys, sender, entropy, PackOptions.Default);
    }

    /// <summary>As <see cref="Pack(ReadOnlySpan{byte}, IReadOnlyList{string}, Ed25519KeyPair?, Entropy)"/>, with explicit cipher/label/padding.</summary>
    public static string Pack(ReadOnlySpan<byte> plaintext, IReadOnlyList<string> recipientVerkeys, Ed25519KeyPair? sender, Entropy entropy, PackOptions options)
    {
        ArgumentNullException.ThrowIfNull(recipientVerkeys);
        ArgumentNullException.ThrowIfNull(entropy);
        ArgumentNullException.ThrowIfNull(options);
        if (recipientVerkeys.Count == 0)
            throw new EnvelopeException(EnvelopeError.InvalidKey, "cannot pack an envelope without recipient keys");

        var recipients = new List<(string Kid, byte[] X25519)>(recipientVerkeys.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var verkey in recipientVerkeys)
        {
            var x = RecipientX25519(verkey);
            if (!seen.Add(verkey))
                throw new EnvelopeException(EnvelopeError.InvalidKey, $"recipient key {verkey} is listed twice (unpackers reject duplicate kids)");
            recipients.Add((verkey, x));
        }

        // base64url grows 4/3; each recipient entry is a few hundred bytes. Refuse what no unpacker of ours would open.
        long estimate = (plaintext.Length + 16L) * 4 / 3 + recipients.Count * 400L + 200;
        if (estimate > MaxEnvelopeBytes)
            throw new EnvelopeException(EnvelopeError.TooLarge, $"the packed envelope would exceed {MaxEnvelopeBytes} bytes (plaintext is {plaintext.Length} bytes)");

        string B64(ReadOnlySpan<byte> b) => Base64Url.Encode(b, options.PaddedBase64);

        bool extended = options.Cipher == EnvelopeCipher.XChaCha20Poly1305Ietf;
        byte[] cek = entropy.Bytes(CekBytes);
        byte[] iv = entropy.Bytes(extended ? Sodium.XChaChaNonceBytes : Sodium.ChaChaIetfNonceBytes);
        byte[]? senderSecret = sender?.X25519Secret();
        try
        {
            var headerBuffer = new ArrayBufferWriter<byte>();
            using (var w = new Utf8JsonWriter(headerBuffer, WriterOptions))
            {
                w.WriteStartObject();
                w.WriteString("enc", options.EncLabel);
                w.WriteString("typ", Typ);
                w.WriteString("alg", sender is null ? AlgAnoncrypt : AlgAuthcrypt);
                w.WriteStartArray("recipients");
                foreach (var (kid, recipientX) in recipients)
                {
                    w.WriteStartObject();
                    if (sender is null)
                    {
                        // "set encrypted_key value to base64URLencode(libsodium.crypto_box_seal(their_vk, cek))"
                        w.WriteString("encrypted_key", B64(Sodium.BoxSeal(cek, recipientX, entropy.Bytes(Sodium.X25519KeyBytes))));
                        w.WriteStartObject("header");
                        w.WriteString("kid", kid);
                        w.WriteEndObject();
                    }
                    else
                    {
                        // "set sender value to base64URLencode(libsodium.crypto_box_seal(their_vk, sender_vk_string))"
                        var sealedSender = Sodium.BoxSeal(System.Text.Encoding.ASCII.GetBytes(sender.Verkey), recipientX, entropy.Bytes(Sodium.X25519KeyBytes));
                        // "set encrypted_key value to base64URLencode(libsodium.crypto_box(my_key, their_vk, cek, cek_iv))"
                        var cekIv = entropy.Bytes(Sodium.BoxNonceBytes);
                        var encryptedKey = Sodium.Box(cek, cekIv, recipientX, senderSecret);
                        w.WriteString("encrypted_key", B64(encryptedKey));
                        w.WriteStartObject("header");
                        w.WriteString("kid", kid);
                        w.WriteString("sender", B64(sealedSender));
                        w.WriteString("iv", B64(cekIv));
                        w.WriteEndObject();
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }

            // "base64URLencode the protected value", then encrypt with AAD = that string's bytes.
            string protectedB64 = B64(headerBuffer.WrittenSpan);
            byte[] aad = System.Text.Encoding.ASCII.GetBytes(protectedB64);
            byte[] sealedContent = extended
                ? Sodium.XChaCha20Poly1305Encrypt(plaintext, aad, iv, cek)
                : Sodium.ChaCha20Poly1305Encrypt(plaintext, aad, iv, cek);
            var ciphertext = sealedContent.AsSpan(0, sealedContent.Length - Sodium.AeadTagBytes);
            var tag = sealedContent.AsSpan(sealedContent.Length - Sodium.AeadTagBytes);

            var outBuffer = new ArrayBufferWriter<byte>();
            using (var w = new Utf8JsonWriter(outBuffer, WriterOptions))
            {
                w.WriteStartObject();
                w.WriteString("protected", protectedB64);
                w.WriteString("iv", B64(iv));
                w.WriteString("ciphertext", B64(ciphertext));
                w.WriteString("tag", B64(tag));
                w.WriteEndObject();
            }
            if (outBuffer.WrittenCount > MaxEnvelopeBytes)
                throw new EnvelopeException(EnvelopeError.TooLarge, $"the packed envelope is {outBuffer.WrittenCount} bytes, over the {MaxEnvelopeBytes}-byte limit");
            return System.Text.Encoding.UTF8.GetString(outBuffer.WrittenSpan);
        }
        catch (CryptoException e)
        {
            throw new EnvelopeException(EnvelopeError.InvalidKey, "packing failed: " + e.Message, e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(cek);
            if (senderSecret is not null) CryptographicOperations.ZeroMemory(senderSecret);
        }
    }

    private static byte[] RecipientX25519(string? verkey)
    {
        if (string.IsNullOrEmpty(verkey))
            throw new EnvelopeException(EnvelopeError.InvalidKey, "a recipient key is empty");
        if (!Base58.TryDecode(verkey, out var raw) || raw.Length != Sodium.Ed25519PublicKeyBytes)
            throw new EnvelopeException(EnvelopeError.InvalidKey, $"recipient key '{Shorten(verkey)}' is not a base58 32-byte Ed25519 verkey (did:key values go through Rfc0094.ToVerkey first)");
        try { return Sodium.Ed25519PublicToX25519(raw); }
        catch (CryptoException e) { throw new EnvelopeException(EnvelopeError.InvalidKey, $"recipient key {verkey} is not a valid Ed25519 public key: {e.Message}", e); }
    }

    // ================================================================ unpack

    /// <summary>
    /// Unpacks an envelope with any key the caller holds: <paramref name="keyLookup"/>(kid) returns the key pair
    /// for that verkey, or null. Recipients are tried in header order; the first held key is used.
    /// Throws <see cref="EnvelopeException"/> on any defect. Exceptions thrown by <paramref name="keyLookup"/> itself propagate unchanged.
    /// </summary>
    public static UnpackedMessage Unpack(ReadOnlySpan<byte> envelopeJson, Func<string, Ed25519KeyPair?> keyLookup)
    {
        ArgumentNullException.ThrowIfNull(keyLookup);
        if (envelopeJson.Length > MaxEnvelopeBytes) throw TooLarge(envelopeJson.Length);
        return Open(envelopeJson.ToArray(), keyLookup);
    }

    public static UnpackedMessage Unpack(string envelopeJson, Func<string, Ed25519KeyPair?> keyLookup)
    {
        ArgumentNullException.ThrowIfNull(envelopeJson);
        ArgumentNullException.ThrowIfNull(keyLookup);
        return Open(ToUtf8Bounded(envelopeJson), keyLookup);
    }

    /// <summary>
    /// The recipient kids named in the protected header, in order, without decrypting anything (what a mediator
    /// routes on). The header is validated as strictly as <see cref="Unpack(string, Func{string, Ed25519KeyPair?})"/> does.
    /// </summary>
    public static IReadOnlyList<string> RecipientKids(string envelopeJson)
    {
        ArgumentNullException.ThrowIfNull(envelopeJson);
        return RecipientKidsCore(ToUtf8Bounded(envelopeJson));
    }

    public static IReadOnlyList<string> RecipientKids(ReadOnlySpan<byte> envelopeJson)
    {
        if (envelopeJson.Length > MaxEnvelopeBytes) throw TooLarge(envelopeJson.Length);
        return RecipientKidsCore(envelopeJson.ToArray());
    }

    private static IReadOnlyList<string> RecipientKidsCore(byte[] utf8)
    {
        var fields = Guard(() => ParseEnvelope(utf8));
        var header = Guard(() => ParseHeader(fields.Protected));
        return header.Recipients.Select(r => r.Kid).ToArray();
    }

    /// <summary>
    /// Cheap sniff: is <paramref name="body"/> a JSON object with string members protected, iv, ciphertext and tag?
    /// Never throws. (DIDComm v2 JWEs also have these four; check <c>alg</c> to tell them apart.)
    /// </summary>
    public static bool LooksLikeEnvelope(ReadOnlySpan<byte> body)
    {
        if (body.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) body = body[3..];
        if (body.IsEmpty || body.Length > MaxEnvelopeBytes) return false;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            int found = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                int bit = reader.ValueTextEquals("protected"u8) ? 1
                    : reader.ValueTextEquals("iv"u8) ? 2
                    : reader.ValueTextEquals("ciphertext"u8) ? 4
                    : reader.ValueTextEquals("tag"u8) ? 8 : 0;
                if (!reader.Read()) return false;
                if (bit != 0 && reader.TokenType == JsonTokenType.String) found |= bit;
                reader.Skip();
            }
            if (reader.TokenType != JsonTokenType.EndObject) return false;
            return !reader.Read() && found == 15;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    public static bool LooksLikeEnvelope(string? body)
        => body is not null && body.Length <= MaxEnvelopeBytes && LooksLikeEnvelope(System.Text.Encoding.UTF8.GetBytes(body));

    // ---------------------------------------------------------------- unpack internals

    private sealed record EnvelopeFields(string Protected, string Iv, string Ciphertext, string Tag);

    private sealed record Recipient(string Kid, string EncryptedKey, string? Sender, string? Iv);

    private sealed record Header(EnvelopeMode Mode, string Enc, IReadOnlyList<Recipient> Recipients);

    private sealed record Content(byte[] Iv, byte[] Ciphertext, byte[] Tag);

    private static UnpackedMessage Open(byte[] utf8, Func<string, Ed25519KeyPair?> keyLookup)
    {
        var fields = Guard(() => ParseEnvelope(utf8));
        var header = Guard(() => ParseHeader(fields.Protected));
        var content = Guard(() => DecodeContent(fields));

        // "Lookup the kid for each recipient in the wallet to see if the wallet possesses a private key
        //  associated with the public key listed". keyLookup is the caller's: it runs outside Guard.
        foreach (var recipient in header.Recipients)
        {
            var pair = keyLookup(recipient.Kid);
            if (pair is null) continue;
            if (!string.Equals(pair.Verkey, recipient.Kid, StringComparison.Ordinal))
                throw new EnvelopeException(EnvelopeError.NoMatchingRecipient, $"the key lookup for kid {recipient.Kid} returned a different key ({pair.Verkey})");
            return Guard(() => Decrypt(fields.Protected, header, content, recipient, pair));
        }

        var kids = header.Recipients.Select(r => Shorten(r.Kid)).Take(5).ToList();
        if (header.Recipients.Count > kids.Count) kids.Add("...");
        throw new EnvelopeException(EnvelopeError.NoMatchingRecipient,
            $"the envelope is not addressed to any key we hold (recipient kids: {string.Join(", ", kids)})");
    }

    private static EnvelopeFields ParseEnvelope(byte[] utf8)
    {
        var memory = utf8.AsMemory();
        if (memory.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) memory = memory[3..];
        JsonDocument doc;
        try { doc = JsonDocument.Parse(memory, DocOptions); }
        catch (JsonException e) { throw new EnvelopeException(EnvelopeError.NotJson, "the envelope is not valid JSON: " + e.Message, e); }
        using (doc)
        {
            var env = Members(doc.RootElement, "the envelope");
            // schema.md: "required": ["ciphertext", "iv", "protected", "tag"]
            return new EnvelopeFields(
                RequiredString(env, "protected", "the envelope"),
                RequiredString(env, "iv", "the envelope"),
                RequiredString(env, "ciphertext", "the envelope"),
                RequiredString(env, "tag", "the envelope"));
        }
    }

    private static Header ParseHeader(string protectedB64)
    {
        byte[] headerBytes = DecodeB64(protectedB64, "protected");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(headerBytes, DocOptions); }
        catch (JsonException e) { throw new EnvelopeException(EnvelopeError.Malformed, "the protected header is not valid JSON: " + e.Message, e); }
        using (doc)
        {
            const string where = "the protected header";
            var h = Members(doc.RootElement, where);
            // schema.md protected: "required": ["enc", "typ", "alg", "recipients"]. typ is informational and
            // agents never check it; enc and alg decide whether we can process the envelope at all.
            string enc = RequiredString(h, "enc", where);
            if (enc != EncXChaCha20Poly1305Ietf && enc != EncChaCha20Poly1305Ietf && enc != EncReadmeTemplateSpelling)
                throw new EnvelopeException(EnvelopeError.UnsupportedAlgorithm,
                    $"unsupported enc '{Shorten(enc)}': RFC 0019 envelopes use xchacha20poly1305_ietf (a DIDComm v2 JWE is not an RFC 0019 envelope)");
            string alg = RequiredString(h, "alg", where);
            // The README examples say "Authcrypt"/"Anoncrypt", schema.md's enum says "authcrypt"/"anoncrypt".
            EnvelopeMode mode = alg.Equals(AlgAuthcrypt, StringComparison.OrdinalIgnoreCase) ? EnvelopeMode.Authcrypt
                : alg.Equals(AlgAnoncrypt, StringComparison.OrdinalIgnoreCase) ? EnvelopeMode.Anoncrypt
                : throw new EnvelopeException(EnvelopeError.UnsupportedAlgorithm, $"unsupported alg '{Shorten(alg)}': expected Authcrypt or Anoncrypt");

            if (!h.TryGetValue("recipients", out var list) || list.ValueKind == JsonValueKind.Null)
                throw new EnvelopeException(EnvelopeError.MissingField, "the protected header has no \"recipients\"");
            if (list.ValueKind != JsonValueKind.Array)
                throw new EnvelopeException(EnvelopeError.Malformed, "\"recipients\" in the protected header must be an array");
            if (list.GetArrayLength() == 0)
                throw new EnvelopeException(EnvelopeError.Malformed, "\"recipients\" in the protected header is empty");

            var recipients = new List<Recipient>(list.GetArrayLength());
            var kids = new HashSet<string>(StringComparer.Ordinal);
            int i = 0;
            foreach (var item in list.EnumerateArray())
            {
                string at = $"recipients[{i++}]";
                var r = Members(item, at);
                string encryptedKey = RequiredString(r, "encrypted_key", at);
                if (!r.TryGetValue("header", out var headerElement) || headerElement.ValueKind == JsonValueKind.Null)
                    throw new EnvelopeException(EnvelopeError.MissingField, $"{at} has no \"header\"");
                var rh = Members(headerElement, at + ".header");
                string kid = RequiredString(rh, "kid", at + ".header");
                if (kid.Length == 0)
                    throw new EnvelopeException(EnvelopeError.MissingField, $"{at}.header.kid is empty");
                string? sender = OptionalString(rh, "sender", at + ".header");
                string? iv = OptionalString(rh, "iv", at + ".header");
                if (mode == EnvelopeMode.Authcrypt)
                {
                    // "If a sender is included use auth_decrypt": authcrypt needs both the sealed sender and the cek_iv.
                    if (sender is null) throw new EnvelopeException(EnvelopeError.MissingField, $"{at}.header has no \"sender\", which Authcrypt requires");
                    if (iv is null) throw new EnvelopeException(EnvelopeError.MissingField, $"{at}.header has no \"iv\", which Authcrypt requires");
                }
                else if (sender is not null || iv is not null)
                {
                    // "If a sender is NOT included use anon_decrypt": a sender under alg Anoncrypt is contradictory.
                    throw new EnvelopeException(EnvelopeError.Malformed, $"{at}.header carries \"{(sender is not null ? "sender" : "iv")}\" but alg is Anoncrypt");
                }
                if (!kids.Add(kid))
                    throw new EnvelopeException(EnvelopeError.Malformed, $"recipient kid {Shorten(kid)} appears more than once in the protected header");
                recipients.Add(new Recipient(kid, encryptedKey, sender, iv));
            }
            return new Header(mode, enc, recipients);
        }
    }

    private static Content DecodeContent(EnvelopeFields f)
    {
        byte[] iv = DecodeB64(f.Iv, "iv");
        if (iv.Length != Sodium.ChaChaIetfNonceBytes && iv.Length != Sodium.XChaChaNonceBytes)
            throw new EnvelopeException(EnvelopeError.Malformed,
                $"\"iv\" is {iv.Length} bytes: expected 12 (chacha20poly1305_ietf) or 24 (xchacha20poly1305_ietf)");
        byte[] ciphertext = DecodeB64(f.Ciphertext, "ciphertext");
        byte[] tag = DecodeB64(f.Tag, "tag");
        if (tag.Length != Sodium.AeadTagBytes)
            throw new EnvelopeException(EnvelopeError.Malformed, $"\"tag\" is {tag.Length} bytes, expected {Sodium.AeadTagBytes}");
        return new Content(iv, ciphertext, tag);
    }

    private static UnpackedMessage Decrypt(string protectedB64, Header header, Content content, Recipient recipient, Ed25519KeyPair pair)
    {
        byte[] ourSecret = pair.X25519Secret();
        byte[] ourPublic = pair.X25519Public;
        byte[]? cek = null;
        try
        {
            byte[] encryptedKey = DecodeB64(recipient.EncryptedKey, "encrypted_key");
            string? senderVerkey = null;
            if (header.Mode == EnvelopeMode.Anoncrypt)
            {
                // "decrypt encrypted_key using libsodium.crypto_box_seal_open(my_private_key, encrypted_key)"
                try { cek = Sodium.BoxSealOpen(encryptedKey, ourPublic, ourSecret); }
                catch (CryptoException e)
                {
                    throw new EnvelopeException(EnvelopeError.RecipientKeyDecryptFailed, $"encrypted_key for kid {recipient.Kid} does not open with our key ({e.Message})", e);
                }
            }
            else
            {
                // "decrypt sender verkey using libsodium.crypto_box_seal_open(my_private_key, base64URLdecode(sender))"
                byte[] sealedSender = DecodeB64(recipient.Sender!, "sender");
                byte[] senderText;
                try { senderText = Sodium.BoxSealOpen(sealedSender, ourPublic, ourSecret); }
                catch (CryptoException e)
                {
                    throw new EnvelopeException(EnvelopeError.SenderKeyInvalid, $"the sealed \"sender\" for kid {recipient.Kid} does not open with our key ({e.Message})", e);
                }
                senderVerkey = ParseSenderVerkey(senderText);
                byte[] senderX;
                try { senderX = Sodium.Ed25519PublicToX25519(Base58.Decode(senderVerkey)); }
                catch (CryptoException e)
                {
                    throw new EnvelopeException(EnvelopeError.SenderKeyInvalid, $"sender verkey {senderVerkey} is not a valid Ed25519 public key ({e.Message})", e);
                }

                byte[] cekIv = DecodeB64(recipient.Iv!, "recipient iv");
                if (cekIv.Length != Sodium.BoxNonceBytes)
                    throw new EnvelopeException(EnvelopeError.Malformed, $"the recipient header iv is {cekIv.Length} bytes, expected {Sodium.BoxNonceBytes} (crypto_box nonce)");
                // "decrypt cek using libsodium.crypto_box_open(my_private_key, sender_verkey, encrypted_key, cek_iv)"
                try { cek = Sodium.BoxOpen(encryptedKey, cekIv, senderX, ourSecret); }
                catch (CryptoException e)
                {
                    throw new EnvelopeException(EnvelopeError.RecipientKeyDecryptFailed,
                        $"encrypted_key for kid {recipient.Kid} does not open with sender {senderVerkey} and our key ({e.Message})", e);
                }
            }
            if (cek.Length != CekBytes)
                throw new EnvelopeException(EnvelopeError.RecipientKeyDecryptFailed, $"the decrypted content key is {cek.Length} bytes, expected {CekBytes}");

            // "decrypt ciphertext using libsodium.crypto_aead_chacha20poly1305_ietf_open_detached(ciphertext, protected, nonce, cek)";
            // the cipher follows the iv length (see the file header), the AAD is the protected string as received.
            bool extended = content.Iv.Length == Sodium.XChaChaNonceBytes;
            byte[] aad = System.Text.Encoding.UTF8.GetBytes(protectedB64);
            byte[] sealedContent = new byte[content.Ciphertext.Length + content.Tag.Length];
            content.Ciphertext.CopyTo(sealedContent, 0);
            content.Tag.CopyTo(sealedContent, content.Ciphertext.Length);
            byte[] plaintext;
            try
            {
                plaintext = extended
                    ? Sodium.XChaCha20Poly1305Decrypt(sealedContent, aad, content.Iv, cek)
                    : Sodium.ChaCha20Poly1305Decrypt(sealedContent, aad, content.Iv, cek);
            }
            catch (CryptoException e)
            {
                throw new EnvelopeException(EnvelopeError.ContentDecryptFailed,
                    "the content does not decrypt: tag, protected header (AAD), iv or content key was altered", e);
            }
            return new UnpackedMessage(plaintext, senderVerkey, recipient.Kid, header.Mode,
                extended ? EncXChaCha20Poly1305Ietf : EncChaCha20Poly1305Ietf);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ourSecret);
            if (cek is not null) CryptographicOperations.ZeroMemory(cek);
        }
    }

    /// <summary>The sealed sender holds the base58 verkey as text; it must name a 32-byte key.</summary>
    private static string ParseSenderVerkey(byte[] text)
    {
        string verkey;
        try { verkey = StrictUtf8.GetString(text); }
        catch (DecoderFallbackException) { throw new EnvelopeException(EnvelopeError.SenderKeyInvalid, "the decrypted sender is not UTF-8 text (expected a base58 verkey)"); }
        if (!Base58.TryDecode(verkey, out var raw))
            throw new EnvelopeException(EnvelopeError.SenderKeyInvalid, "the decrypted sender is not a base58 verkey");
        if (raw.Length != Sodium.Ed25519PublicKeyBytes)
            throw new EnvelopeException(EnvelopeError.SenderKeyInvalid, $"the decrypted sender verkey is {raw.Length} bytes, expected 32");
        return verkey;
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>Maps the library exceptions that bad input can still provoke to <see cref="EnvelopeException"/>.</summary>
    private static T Guard<T>(Func<T> step)
    {
        try { return step(); }
        catch (EnvelopeException) { throw; }
        catch (Exception e) when (e is JsonException or FormatException or CryptoException or InvalidOperationException or ArgumentException or OverflowException)
        {
            throw new EnvelopeException(EnvelopeError.Malformed, "malformed envelope: " + e.Message, e);
        }
    }

    private static byte[] ToUtf8Bounded(string s)
    {
        // Every char is at least one UTF-8 byte: a cheap early reject before allocating.
        if (s.Length > MaxEnvelopeBytes) throw TooLarge(s.Length);
        int size = System.Text.Encoding.UTF8.GetByteCount(s);
        if (size > MaxEnvelopeBytes) throw TooLarge(size);
        return System.Text.Encoding.UTF8.GetBytes(s);
    }

    private static EnvelopeException TooLarge(long size) =>
        new(EnvelopeError.TooLarge, $"the envelope is {size} bytes or more, over the {MaxEnvelopeBytes}-byte limit");

    /// <summary>An object's members; duplicate names are rejected (which one would a peer have used?).</summary>
    internal static Dictionary<string, JsonElement> Members(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new EnvelopeException(EnvelopeError.Malformed, $"{where} must be a JSON object, got {element.ValueKind.ToString().ToLowerInvariant()}");
        var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in element.EnumerateObject())
        {
            string name;
            try { name = p.Name; }
            catch (InvalidOperationException) { throw new EnvelopeException(EnvelopeError.BadEncoding, $"{where} has a member name that is not valid UTF-8"); }
            if (!members.TryAdd(name, p.Value))
                throw new EnvelopeException(EnvelopeError.Malformed, $"{where} has the member \"{Shorten(name)}\" more than once");
        }
        return members;
    }

    private static string RequiredString(Dictionary<string, JsonElement> o, string name, string where)
        => OptionalString(o, name, where) ?? throw new EnvelopeException(EnvelopeError.MissingField, $"{where} has no \"{name}\"");

    private static string? OptionalString(Dictionary<string, JsonElement> o, string name, string where)
    {
        if (!o.TryGetValue(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String)
            throw new EnvelopeException(EnvelopeError.Malformed, $"\"{name}\" in {where} must be a string, got {v.ValueKind.ToString().ToLowerInvariant()}");
        // The reader validates structure eagerly but string contents lazily: invalid UTF-8 surfaces here.
        try { return v.GetString()!; }
        catch (InvalidOperationException) { throw new EnvelopeException(EnvelopeError.BadEncoding, $"\"{name}\" in {where} is not valid UTF-8 text"); }
    }

    private static byte[] DecodeB64(string value, string field)
    {
        if (!Base64Url.TryDecode(value, out var bytes))
            throw new EnvelopeException(EnvelopeError.BadEncoding, $"\"{field}\" is not valid base64url");
        return bytes;
    }

    internal static string Shorten(string s) => s.Length <= 64 ? s : s[..61] + "...";
}
