// Reading keys from the command line, shared by the verbs that take them.
//   secrets: base58 of a 64-byte Ed25519 secret key (seed||public, what indy-sdk / askar export) or of a 32-byte
//            seed; or a 32-character wallet seed as ACA-Py's --seed and indy take it ("000…000Trustee1");
//            or @FILE holding either (keeps the secret out of `ps` and shell history).
//   public keys: base58 verkey, did:key (RFC 0360), or a DID URL naming a key of a self-resolving DID
//            (did:peer:0/2/4 long form: did:peer:2...#key-1).
// Error messages never contain the secret (Entry also scrubs it from stderr as a second line of defence).
using System.Text;
using Conformance.Wire.Crypto;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;
using Conformance.Wire.Envelopes;

namespace Conformance.Cli.Verbs;

internal static class KeyArgs
{
    /// <summary>
    /// Parses a secret given with <paramref name="option"/>. Throws <see cref="CliException"/> whose message names the
    /// option and what is wrong (length, encoding), never the value.
    /// </summary>
    public static Ed25519KeyPair ParseSecret(string value, string option)
    {
        var text = value;
        if (text.StartsWith('@'))
        {
            var path = text[1..];
            try { text = File.ReadAllText(path, new UTF8Encoding(false, true)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or DecoderFallbackException)
            {
                throw new CliException($"{option}: cannot read the secret file '{path}' ({e.GetType().Name.Replace("Exception", "")})");
            }
        }
        text = text.Trim();
        if (text.Length == 0) throw new CliException($"{option}: the secret is empty");

        if (Base58.TryDecode(text, out var raw) && raw.Length is 32 or 64)
        {
            try { return Ed25519KeyPair.FromSecret(raw); }
            catch (CryptoException e) { throw new CliException($"{option}: {e.Message}"); }
            finally { Array.Clear(raw); }
        }
        // ACA-Py `--seed` / indy `seed`: exactly 32 characters used as the 32 seed bytes.
        if (text.Length == 32 && text.All(c => c is > ' ' and < '\x7f'))
            return Ed25519KeyPair.FromSeed(Encoding.ASCII.GetBytes(text));

        if (raw is { Length: > 0 })
            throw new CliException($"{option}: the secret decodes to {raw.Length} bytes; expected base58 of a 64-byte Ed25519 secret key or a 32-byte seed (or a 32-character wallet seed)");
        throw new CliException($"{option}: the secret is not valid base58; expected base58 of a 64-byte Ed25519 secret key or a 32-byte seed (or a 32-character wallet seed)");
    }

    /// <summary>
    /// A base58 Ed25519 verkey from a verkey, a did:key (optionally with its fragment) or a DID URL into a
    /// self-resolving DID's document. Throws <see cref="CliException"/> naming <paramref name="option"/>.
    /// </summary>
    public static async Task<string> ToVerkeyAsync(string value, string option, CancellationToken ct)
    {
        var text = value.Trim();
        try
        {
            if (!text.StartsWith("did:", StringComparison.Ordinal) || DidKey.IsDidKey(text))
                return Rfc0094.ToVerkey(text);

            if (!text.Contains('#'))
                throw new CliException($"{option}: '{DidException.Abbrev(text)}' names a DID, not one of its keys; give a DID URL (did:...#key-1), a did:key or a verkey");
            var doc = await new DidResolver().ResolveAsync(text, ct).ConfigureAwait(false);
            var method = doc.FindMethod(text)
                         ?? throw new CliException($"{option}: '{DidException.Abbrev(text)}' is not a key of its DID document");
            if (method.Codec != KeyCodec.Ed25519Pub)
                throw new CliException($"{option}: '{DidException.Abbrev(text)}' is an X25519 key; DIDComm v1 envelopes need an Ed25519 key");
            return method.Verkey;
        }
        catch (EnvelopeException e) { throw new CliException($"{option}: {e.Message}"); }
        catch (DidException e) { throw new CliException($"{option}: {e.Message}"); }
    }
}
