// Types shared by the DIDComm v1 envelope code: Aries RFC 0019 (encryption envelope) and
// RFC 0094 (forward). See Rfc0019.cs and Rfc0094.cs for the algorithms.

namespace Conformance.Wire.Envelopes;

/// <summary>
/// RFC 0019 "Authcrypt mode vs. Anoncrypt mode": authcrypt reveals the sender to the recipient only;
/// anoncrypt leaves the sender anonymous.
/// </summary>
public enum EnvelopeMode
{
    Authcrypt,
    Anoncrypt,
}

/// <summary>
/// What <c>unpack_message()</c> returns (RFC 0019 "unpack_message() return values"): the message, the
/// recipient verkey that opened it and, in authcrypt mode, the sender verkey.
/// </summary>
/// <param name="Plaintext">The decrypted message bytes (a JSON message, or a nested envelope).</param>
/// <param name="SenderVerkey">base58 Ed25519 verkey of the sender (authcrypt); null for anoncrypt.</param>
/// <param name="RecipientVerkey">The kid of the recipient entry that was opened.</param>
/// <param name="Mode">Authcrypt or anoncrypt, from the protected header's <c>alg</c>.</param>
/// <param name="ContentCipher">The content cipher actually used, chosen by iv length:
/// <c>chacha20poly1305_ietf</c> (12-byte iv) or <c>xchacha20poly1305_ietf</c> (24-byte iv).
/// It can differ from the header's <c>enc</c> label (see <see cref="Rfc0019"/>).</param>
public sealed record UnpackedMessage(byte[] Plaintext, string? SenderVerkey, string RecipientVerkey, EnvelopeMode Mode, string ContentCipher)
{
    /// <summary>The plaintext decoded as UTF-8 (invalid sequences become U+FFFD).</summary>
    public string PlaintextText => System.Text.Encoding.UTF8.GetString(Plaintext);
}

/// <summary>Why an envelope was rejected (or could not be built).</summary>
public enum EnvelopeError
{
    /// <summary>The envelope is not parseable JSON.</summary>
    NotJson,
    /// <summary>A required field is absent (or null).</summary>
    MissingField,
    /// <summary>A base64url (or base58) value does not decode.</summary>
    BadEncoding,
    /// <summary><c>alg</c> or <c>enc</c> names something other than RFC 0019's algorithms.</summary>
    UnsupportedAlgorithm,
    /// <summary>None of the recipient kids is a key the caller holds.</summary>
    NoMatchingRecipient,
    /// <summary>Our recipient entry's <c>encrypted_key</c> does not open with our key (and the sender's, in authcrypt).</summary>
    RecipientKeyDecryptFailed,
    /// <summary>Authcrypt: the sealed <c>sender</c> does not open, or is not a valid Ed25519 verkey.</summary>
    SenderKeyInvalid,
    /// <summary>The content does not decrypt: tag, AAD (the protected header), iv or key mismatch.</summary>
    ContentDecryptFailed,
    /// <summary>Larger than <see cref="Rfc0019.MaxEnvelopeBytes"/>.</summary>
    TooLarge,
    /// <summary>Parseable, but structurally wrong (wrong types, duplicate kids, bad lengths, not a forward...).</summary>
    Malformed,
    /// <summary>A key given by the caller (recipient, routing key, did:key) is not a usable Ed25519 public key.</summary>
    InvalidKey,
}

/// <summary>
/// An envelope could not be packed, unpacked or unwrapped. The message is one readable line; it may name
/// public keys (kids) but never contains secret key material, content keys or plaintext.
/// </summary>
public sealed class EnvelopeException : Exception
{
    public EnvelopeException(EnvelopeError error, string message) : base(OneLine(message)) => Error = error;

    public EnvelopeException(EnvelopeError error, string message, Exception inner) : base(OneLine(message), inner) => Error = error;

    public EnvelopeError Error { get; }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}

/// <summary>The AEAD used for the envelope content.</summary>
public enum EnvelopeCipher
{
    /// <summary>
    /// ChaCha20-Poly1305-IETF, 12-byte iv. What RFC 0019's algorithm text specifies
    /// (<c>crypto_aead_chacha20poly1305_ietf_encrypt_detached</c>) and what indy-sdk, ACA-Py (askar
    /// <c>KeyAlg.C20P</c>) and Credo 0.6 (<c>C20P</c>) emit, all under the header label
    /// <c>enc: "xchacha20poly1305_ietf"</c>.
    /// </summary>
    ChaCha20Poly1305Ietf,
    /// <summary>XChaCha20-Poly1305-IETF, 24-byte iv (what the <c>enc</c> label literally says; aries-framework-go).</summary>
    XChaCha20Poly1305Ietf,
}

/// <summary>Knobs for <see cref="Rfc0019.Pack(ReadOnlySpan{byte}, IReadOnlyList{string}, Conformance.Wire.Crypto.Ed25519KeyPair?, Conformance.Wire.Crypto.Entropy, PackOptions)"/>.</summary>
public sealed record PackOptions
{
    /// <summary>Interoperable defaults: 12-byte-iv ChaCha20-Poly1305, <c>enc</c> label xchacha20poly1305_ietf, unpadded base64url.</summary>
    public static PackOptions Default { get; } = new();

    public EnvelopeCipher Cipher { get; init; } = EnvelopeCipher.ChaCha20Poly1305Ietf;

    /// <summary>The <c>enc</c> value written in the protected header. Every deployed agent writes
    /// <c>xchacha20poly1305_ietf</c> whatever the cipher, and Credo rejects anything else.</summary>
    public string EncLabel { get; init; } = Rfc0019.EncXChaCha20Poly1305Ietf;

    /// <summary>Write base64url with '=' padding (as indy-sdk and the RFC 0019 examples do) instead of unpadded
    /// (as ACA-Py and Credo do today). RFC 0019 requires unpackers to accept both.</summary>
    public bool PaddedBase64 { get; init; }
}
