using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.DidComm2;
using Conformance.Wire.Encoding;
using Text = System.Text.Encoding;

namespace Conformance.Wire.Tests.DidComm2;

/// <summary>
/// A second, test-side assembly of DIDComm JWEs from the primitives (ContentEncryption, ConcatKdf, AesKeyWrap, libsodium X25519),
/// with a caller-edited protected header, so that <see cref="Jwe.Decrypt"/> can be exercised on valid envelopes that
/// <see cref="Jwe"/>'s own writer never produces (no skid, a prefix-less typ, ...).
/// </summary>
internal static class JweBuilder
{
    public static string AuthcryptWithoutSkid(byte[] plaintext, OkpKey sender, OkpKey[] recipients, Entropy entropy) =>
        Build(plaintext, sender, recipients, ContentAlg.A256CbcHs512, entropy, p => p.Remove("skid"));

    public static string AnoncryptWithProtectedEdit(byte[] plaintext, OkpKey[] recipients, Entropy entropy, Action<JsonObject> edit) =>
        Build(plaintext, null, recipients, ContentAlg.A256Gcm, entropy, edit);

    private static string Build(byte[] plaintext, OkpKey? sender, OkpKey[] recipients, ContentAlg enc, Entropy entropy, Action<JsonObject> edit)
    {
        var alg = sender is null ? Jwe.AlgAnoncrypt : Jwe.AlgAuthcrypt;
        var cek = entropy.Bytes(ContentEncryption.KeyLength(enc));
        var iv = entropy.Bytes(ContentEncryption.IvLength(enc));
        var esk = entropy.Bytes(32);
        var apv = Jwe.Apv(recipients.Select(r => r.Kid));
        var p = new JsonObject
        {
            ["typ"] = MediaTypes.Encrypted, ["alg"] = alg, ["enc"] = ContentEncryption.Name(enc), ["apv"] = apv,
            ["epk"] = new JsonObject { ["kty"] = "OKP", ["crv"] = "X25519", ["x"] = Base64Url.Encode(Sodium.X25519PublicFromSecret(esk)) },
        };
        if (sender is not null)
        {
            p["skid"] = sender.Kid;
            p["apu"] = Base64Url.Encode(Text.UTF8.GetBytes(sender.Kid));
        }
        edit(p);
        var protectedB64 = Base64Url.Encode(Text.UTF8.GetBytes(p.ToJsonString()));
        var (ciphertext, tag) = ContentEncryption.Encrypt(enc, cek, iv, Text.ASCII.GetBytes(protectedB64), plaintext);
        var apu = sender is null ? [] : Text.UTF8.GetBytes(sender.Kid);
        var list = new JsonArray();
        foreach (var r in recipients)
        {
            byte[] z = sender is null
                ? Sodium.X25519(esk, r.Public)
                : [.. Sodium.X25519(esk, r.Public), .. Sodium.X25519(sender.Secret!, r.Public)];
            var kek = ConcatKdf.Derive(z, 256, alg, apu, Base64Url.Decode(apv), sender is null ? null : tag);
            list.Add(new JsonObject { ["header"] = new JsonObject { ["kid"] = r.Kid }, ["encrypted_key"] = Base64Url.Encode(AesKeyWrap.Wrap(kek, cek)) });
        }
        return new JsonObject
        {
            ["protected"] = protectedB64, ["recipients"] = list, ["iv"] = Base64Url.Encode(iv),
            ["ciphertext"] = Base64Url.Encode(ciphertext), ["tag"] = Base64Url.Encode(tag),
        }.ToJsonString();
    }
}
