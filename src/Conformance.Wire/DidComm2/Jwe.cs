using System.Security.Cryptography;
using System.Text.Json;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.DidComm2;

/// <summary>The result of <see cref="Jwe.Decrypt"/>: the plaintext and which keys were used.</summary>
/// <param name="Plaintext">The decrypted content (for DIDComm: a plaintext or signed message, UTF-8 JSON).</param>
/// <param name="Alg">"ECDH-ES+A256KW" (anoncrypt) or "ECDH-1PU+A256KW" (authcrypt).</param>
/// <param name="Enc">"A256CBC-HS512", "A256GCM" or "XC20P".</param>
/// <param name="RecipientKid">The recipient kid whose key decrypted the message.</param>
/// <param name="SenderKid">Authcrypt: the authenticated sender kid (skid, or apu when skid is absent); anoncrypt: null.</param>
public sealed record JweDecrypted(byte[] Plaintext, string Alg, string Enc, string RecipientKid, string? SenderKid);

/// <summary>
/// DIDComm v2 encrypted messages (encryption.md "Message Encryption"): a JWE in General JSON Serialization
/// (RFC 7516 §7.2.1) with X25519 (OKP) keys.
/// <list type="bullet">
/// <item>Anoncrypt: "the JWA of ECDH-ES defined by RFC 7518 SHOULD be used" — alg ECDH-ES+A256KW, enc A256CBC-HS512, A256GCM or XC20P.</item>
/// <item>Authcrypt: "the JWA of ECDH-1PU MUST be used" — alg ECDH-1PU+A256KW; draft-madden-jose-ecdh-1pu-04 §2.1 requires
/// a compactly committing AEAD, so enc is A256CBC-HS512, and the KDF takes the content tag (§2.3), so the content is
/// encrypted first and the CEK wrapped after.</item>
/// <item>"JWE messages MUST use common epk, apu, apv and alg headers for all recipient keys. They MUST be set in the protected
/// JWE section." epk is generated once; apu = base64url(skid); apv = base64url(SHA-256(sorted recipient kids joined by '.')).</item>
/// <item>Each recipient entry carries its DID URL in header.kid; the typ is application/didcomm-encrypted+json.</item>
/// </list>
/// All randomness (CEK, IV, ephemeral key) is drawn from the given <see cref="Entropy"/>, in that order.
/// </summary>
public static class Jwe
{
    public const string AlgAnoncrypt = "ECDH-ES+A256KW";
    public const string AlgAuthcrypt = "ECDH-1PU+A256KW";
    private const int KekBits = 256;

    /// <summary>Anoncrypt (ECDH-ES+A256KW) to every recipient key; content algorithm <paramref name="enc"/>.</summary>
    public static string AnonEncrypt(ReadOnlySpan<byte> plaintext, IReadOnlyList<OkpKey> recipients, ContentAlg enc, Entropy entropy)
        => Encrypt(plaintext, sender: null, recipients, enc, entropy);

    /// <summary>Authcrypt (ECDH-1PU+A256KW, A256CBC-HS512) from <paramref name="sender"/>'s X25519 key to every recipient key.</summary>
    public static string AuthEncrypt(ReadOnlySpan<byte> plaintext, OkpKey sender, IReadOnlyList<OkpKey> recipients, Entropy entropy)
    {
        if (sender is null) throw new JoseException("authcrypt needs a sender key");
        return Encrypt(plaintext, sender, recipients, ContentAlg.A256CbcHs512, entropy);
    }

    /// <summary>
    /// "apv: ... The list must be alphanumerically sorted, kid values will then be concatenated with a '.' and the final result
    /// MUST be base64 URL (no padding) encoding of the SHA256 hash of concatenated list." Sorting is ordinal.
    /// </summary>
    public static string Apv(IEnumerable<string> kids) => Base64Url.Encode(ApvBytes(kids));

    private static byte[] ApvBytes(IEnumerable<string> kids) =>
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('.', kids.Order(StringComparer.Ordinal))));

    private static string Encrypt(ReadOnlySpan<byte> plaintext, OkpKey? sender, IReadOnlyList<OkpKey> recipients, ContentAlg enc, Entropy entropy)
    {
        if (entropy is null) throw new JoseException("an Entropy source is required");
        if (recipients is null || recipients.Count == 0) throw new JoseException("a JWE needs at least one recipient");
        var kids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in recipients)
        {
            if (r is null) throw new JoseException("recipient list contains a null key");
            // "epk ... MUST be of the same type and curve as all recipient keys"
            if (r.Crv != OkpKey.X25519Crv) throw new JoseException($"recipient {JoseJson.Show(r.Kid)} is a {r.Crv} key; encryption needs X25519");
            if (!kids.Add(r.Kid)) throw new JoseException($"recipient {JoseJson.Show(r.Kid)} is listed twice");
        }
        if (sender is not null)
        {
            if (sender.Crv != OkpKey.X25519Crv) throw new JoseException($"sender {JoseJson.Show(sender.Kid)} is a {sender.Crv} key; authcrypt needs X25519");
            if (sender.Secret is null) throw new JoseException($"sender {JoseJson.Show(sender.Kid)} has no private key");
        }

        string alg = sender is null ? AlgAnoncrypt : AlgAuthcrypt;
        var cek = entropy.Bytes(ContentEncryption.KeyLength(enc));
        var iv = entropy.Bytes(ContentEncryption.IvLength(enc));
        var esk = entropy.Bytes(32);
        try
        {
            var epk = X25519Public(esk);
            var apvBytes = ApvBytes(recipients.Select(r => r.Kid));
            var apuBytes = sender is null ? [] : System.Text.Encoding.UTF8.GetBytes(sender.Kid);

            var protectedJson = JoseJson.WriteUtf8(w =>
            {
                w.WriteStartObject();
                w.WriteString("typ", MediaTypes.Encrypted);
                w.WriteString("alg", alg);
                w.WriteString("enc", ContentEncryption.Name(enc));
                if (sender is not null)
                {
                    w.WriteString("skid", sender.Kid);
                    w.WriteString("apu", Base64Url.Encode(apuBytes));
                }
                w.WriteString("apv", Base64Url.Encode(apvBytes));
                w.WritePropertyName("epk");
                w.WriteStartObject();
                w.WriteString("kty", "OKP");
                w.WriteString("crv", OkpKey.X25519Crv);
                w.WriteString("x", Base64Url.Encode(epk));
                w.WriteEndObject();
                w.WriteEndObject();
            });
            var protectedB64 = Base64Url.Encode(protectedJson);
            // RFC 7516 §5.1 step 14: AAD = ASCII(BASE64URL(UTF8(JWE Protected Header))).
            var (ciphertext, tag) = ContentEncryption.Encrypt(enc, cek, iv, System.Text.Encoding.ASCII.GetBytes(protectedB64), plaintext);

            var wrapped = new List<(string Kid, byte[] Key)>(recipients.Count);
            foreach (var r in recipients)
            {
                var z = sender is null
                    ? Agree(esk, r.Public, r.Kid)
                    : [.. Agree(esk, r.Public, r.Kid), .. Agree(sender.Secret!, r.Public, r.Kid)]; // ECDH-1PU: Z = Ze || Zs
                var kek = ConcatKdf.Derive(z, KekBits, alg, apuBytes, apvBytes, sender is null ? null : tag);
                wrapped.Add((r.Kid, AesKeyWrap.Wrap(kek, cek)));
                CryptographicOperations.ZeroMemory(z);
                CryptographicOperations.ZeroMemory(kek);
            }

            return JoseJson.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("protected", protectedB64);
                w.WritePropertyName("recipients");
                w.WriteStartArray();
                foreach (var (kid, key) in wrapped)
                {
                    w.WriteStartObject();
                    w.WritePropertyName("header");
                    w.WriteStartObject();
                    w.WriteString("kid", kid);
                    w.WriteEndObject();
                    w.WriteString("encrypted_key", Base64Url.Encode(key));
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteString("iv", Base64Url.Encode(iv));
                w.WriteString("ciphertext", Base64Url.Encode(ciphertext));
                w.WriteString("tag", Base64Url.Encode(tag));
                w.WriteEndObject();
            });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(cek);
            CryptographicOperations.ZeroMemory(esk);
        }
    }

    /// <summary>
    /// Decrypts a DIDComm v2 JWE (General JSON; the Flattened form is accepted too) with the first recipient entry whose kid
    /// <paramref name="recipientKeyLookup"/> resolves to a private X25519 key. For authcrypt the sender's public key comes from
    /// <paramref name="senderPublicLookup"/> with the skid (or, when skid is absent, the kid decoded from apu).
    /// Throws <see cref="JoseException"/> on every malformed, unsupported, unauthenticated or undecryptable input;
    /// exceptions thrown by the lookups themselves propagate unchanged.
    /// </summary>
    public static JweDecrypted Decrypt(string jweJson, Func<string, OkpKey?> recipientKeyLookup, Func<string, OkpKey?> senderPublicLookup)
    {
        if (recipientKeyLookup is null || senderPublicLookup is null) throw new JoseException("key lookups are required");
        if (jweJson is not null && !jweJson.TrimStart().StartsWith('{') && jweJson.Count(c => c == '.') == 4)
            throw new JoseException("JWE compact serialization is not a DIDComm v2 encrypted message (the General JSON serialization is required)");
        var root = JoseJson.ParseObject(jweJson!, "JWE");

        // --- structure (RFC 7516 §7.2) ---
        var protectedB64 = JoseJson.OptionalString(root, "protected", "JWE")
            ?? throw new JoseException("JWE has no protected header (DIDComm v2: alg, enc, epk, apv MUST be in the protected header)");
        var prot = JoseJson.DecodeJsonObject(protectedB64, "JWE protected header");
        var shared = JoseJson.OptionalObject(root, "unprotected", "JWE");
        var recipients = ReadRecipients(root);
        var iv = JoseJson.RequiredBase64(root, "iv", "JWE");
        var ciphertext = JoseJson.RequiredBase64(root, "ciphertext", "JWE");
        var tag = JoseJson.RequiredBase64(root, "tag", "JWE");
        var aadMember = JoseJson.OptionalString(root, "aad", "JWE");
        if (aadMember is not null) _ = JoseJson.DecodeBase64(aadMember, "JWE 'aad'");

        // RFC 7516 §7.2.1: "the three sets of Header Parameter values ... MUST be disjoint".
        var protNames = JoseJson.Names(prot).ToHashSet(StringComparer.Ordinal);
        var sharedNames = JoseJson.Names(shared).ToHashSet(StringComparer.Ordinal);
        foreach (var n in sharedNames)
            if (protNames.Contains(n)) throw new JoseException($"JWE header parameter {JoseJson.Show(n)} appears in both the protected and unprotected headers");
        foreach (var r in recipients)
            foreach (var n in JoseJson.Names(r.Header))
                if (protNames.Contains(n) || sharedNames.Contains(n))
                    throw new JoseException($"JWE header parameter {JoseJson.Show(n)} appears in a recipient header and a shared header");

        // RFC 7516 §4.1.13 "crit": recipients MUST reject extensions they do not understand; none are understood here.
        // §4.1.3 "zip" is not used by DIDComm and is rejected rather than silently ignored.
        foreach (var name in new[] { "crit", "zip" })
            if (protNames.Contains(name) || sharedNames.Contains(name) || recipients.Any(r => JoseJson.Has(r.Header ?? default, name)))
                throw new JoseException($"JWE header '{name}' is not supported");

        // --- algorithms (DIDComm: alg, epk, apu, apv MUST be in the protected header) ---
        var alg = RequireProtected(prot, sharedNames, "alg");
        var encName = RequireProtected(prot, sharedNames, "enc");
        if (alg is not (AlgAnoncrypt or AlgAuthcrypt))
            throw new JoseException($"JWE alg {JoseJson.Show(alg)} is not supported (DIDComm v2 with X25519: {AlgAnoncrypt} or {AlgAuthcrypt})");
        if (!ContentEncryption.TryParse(encName, out var enc))
            throw new JoseException($"JWE enc {JoseJson.Show(encName)} is not supported (A256CBC-HS512, A256GCM or XC20P)");
        bool auth = alg == AlgAuthcrypt;
        if (auth && enc != ContentAlg.A256CbcHs512)
            throw new JoseException($"ECDH-1PU key wrapping requires A256CBC-HS512 content encryption (draft-madden-jose-ecdh-1pu-04 §2.1), got {encName}");

        var typ = JoseJson.OptionalString(prot, "typ", "JWE protected header") ?? JoseJson.OptionalString(shared ?? default, "typ", "JWE unprotected header");
        if (typ is not null && !MediaTypes.Is(typ, MediaTypes.Encrypted))
            throw new JoseException($"JWE typ {JoseJson.Show(typ)} is not {MediaTypes.Encrypted}");

        var epk = ReadEpk(prot, sharedNames);
        if (!prot.TryGetProperty("apv", out _))
            throw new JoseException(sharedNames.Contains("apv") ? "JWE 'apv' must be in the protected header" : "JWE protected header has no 'apv'");
        var apv = JoseJson.RequiredBase64(prot, "apv", "JWE protected header");
        var apuB64 = JoseJson.OptionalString(prot, "apu", "JWE protected header");
        var apu = apuB64 is null ? [] : JoseJson.DecodeBase64(apuB64, "JWE protected header 'apu'");

        // Every recipient names its key; apv commits to the sorted list of those kids.
        foreach (var r in recipients)
            if (r.Kid is null) throw new JoseException("a JWE recipient has no 'kid' header (DIDComm v2: the kid MUST be a DID URL)");
        if (!CryptographicOperations.FixedTimeEquals(apv, ApvBytes(recipients.Select(r => r.Kid!))))
            throw new JoseException("JWE apv does not match the recipients' kids (apv MUST be base64url(SHA-256(sorted kids joined by '.')))");

        // --- sender (authcrypt) ---
        string? senderKid = null;
        OkpKey? sender = null;
        if (auth)
        {
            var skid = JoseJson.OptionalString(prot, "skid", "JWE protected header") ?? JoseJson.OptionalString(shared ?? default, "skid", "JWE unprotected header");
            if (apuB64 is null)
                throw new JoseException(sharedNames.Contains("apu") ? "JWE 'apu' must be in the protected header" : "authcrypt JWE has no 'apu' (it MUST carry base64url(skid))");
            string apuKid;
            try { apuKid = new System.Text.UTF8Encoding(false, true).GetString(apu); }
            catch (ArgumentException) { throw new JoseException("JWE apu is not UTF-8 text (it MUST be base64url(skid))"); }
            // "apu ... MUST contain the skid value base64 RawURL (no padding) encoded";
            // "authcrypt implementations MUST be able to resolve the sender kid from the apu header if skid is not set".
            if (skid is not null && skid != apuKid)
                throw new JoseException($"JWE apu names {JoseJson.Show(apuKid)} but skid is {JoseJson.Show(skid)}");
            senderKid = skid ?? apuKid;
            if (senderKid.Length == 0) throw new JoseException("authcrypt JWE has an empty sender kid");
            sender = senderPublicLookup(senderKid) ?? throw new JoseException($"sender key {JoseJson.Show(senderKid)} could not be resolved");
            if (sender.Crv != OkpKey.X25519Crv)
                throw new JoseException($"sender key {JoseJson.Show(senderKid)} is {sender.Crv}; ECDH-1PU with an X25519 epk needs an X25519 sender key");
        }

        // --- our recipient entry ---
        Recipient? mine = null;
        OkpKey? key = null;
        foreach (var r in recipients)
        {
            key = recipientKeyLookup(r.Kid!);
            if (key is null) continue;
            mine = r;
            break;
        }
        if (mine is null || key is null)
            throw new JoseException($"none of the JWE's {recipients.Count} recipient kid(s) resolves to a key we hold");
        if (key.Crv != OkpKey.X25519Crv || key.Secret is null)
            throw new JoseException($"recipient key {JoseJson.Show(mine.Kid)} must be an X25519 key with its private part");

        byte[] z = auth
            ? [.. Agree(key.Secret, epk, mine.Kid!), .. Agree(key.Secret, sender!.Public, mine.Kid!)]
            : Agree(key.Secret, epk, mine.Kid!);
        var kek = ConcatKdf.Derive(z, KekBits, alg, apu, apv, auth ? tag : null);
        CryptographicOperations.ZeroMemory(z);
        byte[] cek;
        try { cek = AesKeyWrap.Unwrap(kek, mine.EncryptedKey); }
        catch (JoseException)
        {
            throw new JoseException($"could not unwrap the content key for {JoseJson.Show(mine.Kid)}: " +
                                    (auth ? "wrong recipient key, wrong sender key, or tampered encrypted_key, tag or headers" : "wrong recipient key, or tampered encrypted_key or headers"));
        }
        finally { CryptographicOperations.ZeroMemory(kek); }
        if (cek.Length != ContentEncryption.KeyLength(enc))
            throw new JoseException($"the unwrapped content key is {cek.Length} bytes; {encName} needs {ContentEncryption.KeyLength(enc)}");

        // RFC 7516 §5.2 step 14: AAD = ASCII(Encoded Protected Header), or ... || '.' || BASE64URL(JWE AAD) when aad is present.
        var aad = System.Text.Encoding.ASCII.GetBytes(aadMember is null ? protectedB64 : protectedB64 + "." + aadMember);
        try
        {
            var plaintext = ContentEncryption.Decrypt(enc, cek, iv, aad, ciphertext, tag);
            return new JweDecrypted(plaintext, alg, encName, mine.Kid!, senderKid);
        }
        finally { CryptographicOperations.ZeroMemory(cek); }
    }

    private sealed record Recipient(string? Kid, JsonElement? Header, byte[] EncryptedKey);

    private static List<Recipient> ReadRecipients(JsonElement root)
    {
        var list = new List<Recipient>();
        if (root.TryGetProperty("recipients", out var arr))
        {
            if (JoseJson.Has(root, "encrypted_key") || JoseJson.Has(root, "header"))
                throw new JoseException("JWE mixes the general (recipients) and flattened (encrypted_key/header) serializations");
            if (arr.ValueKind != JsonValueKind.Array || arr.GetArrayLength() == 0)
                throw new JoseException("JWE 'recipients' must be a non-empty array");
            foreach (var r in arr.EnumerateArray())
            {
                if (r.ValueKind != JsonValueKind.Object) throw new JoseException("each JWE recipient must be a JSON object");
                list.Add(ReadRecipient(r));
            }
        }
        else
        {
            // RFC 7516 §7.2.2 flattened syntax: one recipient, its members at top level.
            if (!JoseJson.Has(root, "encrypted_key")) throw new JoseException("JWE has neither 'recipients' nor 'encrypted_key'");
            list.Add(ReadRecipient(root));
        }
        return list;
    }

    private static Recipient ReadRecipient(JsonElement r)
    {
        var header = JoseJson.OptionalObject(r, "header", "JWE recipient");
        var kid = header is { } h ? JoseJson.OptionalString(h, "kid", "JWE recipient header") : null;
        var encryptedKey = JoseJson.RequiredBase64(r, "encrypted_key", "JWE recipient");
        return new Recipient(kid, header, encryptedKey);
    }

    private static string RequireProtected(JsonElement prot, HashSet<string> sharedNames, string name)
    {
        if (!prot.TryGetProperty(name, out _))
            throw new JoseException(sharedNames.Contains(name)
                ? $"JWE '{name}' must be in the protected header"
                : $"JWE protected header has no '{name}'");
        return JoseJson.RequiredString(prot, name, "JWE protected header");
    }

    /// <summary>The ephemeral public key: an OKP X25519 JWK (RFC 8037 §2) with no private part.</summary>
    private static byte[] ReadEpk(JsonElement prot, HashSet<string> sharedNames)
    {
        var epk = JoseJson.OptionalObject(prot, "epk", "JWE protected header")
            ?? throw new JoseException(sharedNames.Contains("epk") ? "JWE 'epk' must be in the protected header" : "JWE protected header has no 'epk'");
        var kty = JoseJson.OptionalString(epk, "kty", "JWE epk");
        var crv = JoseJson.OptionalString(epk, "crv", "JWE epk");
        if (kty != "OKP" || crv != OkpKey.X25519Crv)
            throw new JoseException($"JWE epk is kty {JoseJson.Show(kty)} crv {JoseJson.Show(crv)}; only OKP X25519 is supported here (P-256/P-384/P-521 are out of scope)");
        if (JoseJson.Has(epk, "d")) throw new JoseException("JWE epk contains a private key");
        var x = JoseJson.RequiredBase64(epk, "x", "JWE epk");
        if (x.Length != 32) throw new JoseException($"JWE epk x must be 32 bytes, got {x.Length}");
        return x;
    }

    private static byte[] X25519Public(byte[] secret)
    {
        try { return Sodium.X25519PublicFromSecret(secret); }
        catch (CryptoException e) { throw new JoseException("X25519: " + e.Message); }
    }

    private static byte[] Agree(byte[] secret, byte[] publicKey, string kid)
    {
        try { return Sodium.X25519(secret, publicKey); }
        catch (CryptoException) { throw new JoseException($"X25519 key agreement for {JoseJson.Show(kid)} failed (low-order public key)"); }
    }
}
