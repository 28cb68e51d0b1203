using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.DidComm2;
using Conformance.Wire.Encoding;
using FsProperty = FsCheck.NUnit.PropertyAttribute;
using Text = System.Text.Encoding;

namespace Conformance.Wire.Tests.DidComm2;

/// <summary>
/// Robustness: 500 seeded random mutations per envelope kind must only ever end in success-with-the-original-plaintext or a
/// <see cref="JoseException"/>; and FsCheck round trips over random plaintexts, 1..4 random recipients and every algorithm.
/// </summary>
public class FuzzAndPropertyTests
{
    private static readonly Entropy Keys = Entropy.Seeded("fuzz-and-property");
    private static readonly OkpKey Alice = OkpKey.GenerateX25519("did:example:alice#key-x25519-1", Keys.Derive("alice"));
    private static readonly OkpKey AliceEd = OkpKey.GenerateEd25519("did:example:alice#key-1", Keys.Derive("alice-ed"));
    private static readonly OkpKey[] Bob =
    [
        OkpKey.GenerateX25519("did:example:bob#key-x25519-1", Keys.Derive("bob-1")),
        OkpKey.GenerateX25519("did:example:bob#key-x25519-2", Keys.Derive("bob-2")),
    ];
    private static readonly byte[] Message = """{"id":"fuzz","typ":"application/didcomm-plain+json","type":"https://didcomm.org/basicmessage/2.0/message","body":{"content":"hi"}}"""u8.ToArray();

    /// <summary>500 per envelope kind; CONFORMANCE_FUZZ_MUTATIONS raises it for a deeper local run.</summary>
    private static readonly int Mutations =
        int.TryParse(Environment.GetEnvironmentVariable("CONFORMANCE_FUZZ_MUTATIONS"), out var n) && n > 0 ? n : 500;

    public static IEnumerable<TestCaseData> Kinds()
    {
        yield return new TestCaseData("anoncrypt A256CBC-HS512", 11);
        yield return new TestCaseData("anoncrypt A256GCM", 12);
        yield return new TestCaseData("anoncrypt XC20P", 13);
        yield return new TestCaseData("authcrypt", 14);
        yield return new TestCaseData("signed", 15);
    }

    private static string Original(string kind) => kind switch
    {
        "anoncrypt A256CBC-HS512" => Jwe.AnonEncrypt(Message, Bob, ContentAlg.A256CbcHs512, Entropy.Seeded(kind)),
        "anoncrypt A256GCM" => Jwe.AnonEncrypt(Message, Bob, ContentAlg.A256Gcm, Entropy.Seeded(kind)),
        "anoncrypt XC20P" => Jwe.AnonEncrypt(Message, Bob, ContentAlg.XC20P, Entropy.Seeded(kind)),
        "authcrypt" => Jwe.AuthEncrypt(Message, Alice, Bob, Entropy.Seeded(kind)),
        _ => Jws.Sign(Message, AliceEd),
    };

    private static byte[] Open(string kind, string input) => kind == "signed"
        ? Jws.Verify(input, kid => kid == AliceEd.Kid ? AliceEd.PublicOnly() : null).Payload
        : Jwe.Decrypt(input, kid => Bob.FirstOrDefault(b => b.Kid == kid), kid => kid == Alice.Kid ? Alice.PublicOnly() : null).Plaintext;

    [TestCaseSource(nameof(Kinds))]
    public void Random_mutations_fail_only_with_JoseException(string kind, int seed)
    {
        var original = Original(kind);
        Assert.That(Open(kind, original), Is.EqualTo(Message), "the unmutated envelope opens");
        var rng = new Random(seed);
        int rejected = 0, accepted = 0;
        for (int i = 0; i < Mutations; i++)
        {
            var ops = new List<string>();
            var mutated = original;
            int count = 1 + rng.Next(3);
            for (int k = 0; k < count; k++) mutated = Mutator.Apply(mutated, rng, ops);
            try
            {
                var opened = Open(kind, mutated);
                Assert.That(opened, Is.EqualTo(Message), $"mutation {i} ({string.Join(", ", ops)}) opened to a different plaintext");
                accepted++;
            }
            catch (JoseException e)
            {
                Assert.That(e.Message, Does.Not.Contain("\n").And.Not.Empty, $"mutation {i}");
                rejected++;
            }
            catch (Exception e) when (e is not AssertionException)
            {
                Assert.Fail($"mutation {i} ({string.Join(", ", ops)}) threw {e.GetType().Name}: {e.Message}\ninput: {Trim(mutated)}");
            }
        }
        TestContext.Out.WriteLine($"{kind}: {rejected} rejected, {accepted} still valid (benign edits) of {Mutations}");
        Assert.That(rejected, Is.GreaterThan(Mutations * 8 / 10), "the mutator should mostly produce invalid envelopes");
    }

    private static string Trim(string s) => s.Length > 400 ? s[..400] + "…" : s;

    /// <summary>Character-level and JSON-aware mutations, including inside base64url members and the decoded protected header.</summary>
    private static class Mutator
    {
        private static readonly string[] Names =
            ["protected", "recipients", "header", "kid", "encrypted_key", "iv", "ciphertext", "tag", "aad", "unprotected", "alg", "enc",
             "epk", "apu", "apv", "skid", "typ", "crit", "zip", "x", "d", "kty", "crv", "payload", "signatures", "signature"];

        private static readonly string Chars = "{}[]\":,.\\ 0aZ-_=+/\u00e9\u0000\n\ud83d\ude00\ud800";

        public static string Apply(string input, Random rng, List<string> ops)
        {
            switch (rng.Next(8))
            {
                case 0:
                    if (input.Length == 0) goto case 2;
                    {
                        int pos = rng.Next(input.Length);
                        ops.Add($"replace@{pos}");
                        return input[..pos] + Chars[rng.Next(Chars.Length)] + input[(pos + 1)..];
                    }
                case 1:
                    if (input.Length == 0) goto case 2;
                    {
                        int pos = rng.Next(input.Length), len = 1 + rng.Next(Math.Min(12, input.Length - pos));
                        ops.Add($"delete@{pos}+{len}");
                        return input.Remove(pos, len);
                    }
                case 2:
                    {
                        int pos = rng.Next(input.Length + 1);
                        var ins = new string(Enumerable.Range(0, 1 + rng.Next(4)).Select(_ => Chars[rng.Next(Chars.Length)]).ToArray());
                        ops.Add($"insert@{pos}");
                        return input.Insert(pos, ins);
                    }
                case 3:
                    if (input.Length == 0) goto case 2;
                    {
                        int pos = rng.Next(input.Length), len = 1 + rng.Next(Math.Min(40, input.Length - pos));
                        ops.Add($"duplicate@{pos}+{len}");
                        return input.Insert(pos, input.Substring(pos, len));
                    }
                case 4:
                case 5:
                    return JsonAware(() => Structural(input, rng, ops, ""), input, rng, ops);
                default:
                    return JsonAware(() => InsideProtected(input, rng, ops), input, rng, ops);
            }
        }

        /// <summary>JSON-aware edits need a parseable document; on text the test-side parser refuses (lone surrogates,
        /// duplicate names), fall back to a character-level edit.</summary>
        private static string JsonAware(Func<string> edit, string input, Random rng, List<string> ops)
        {
            try { return edit(); }
            catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
            {
                return Apply(input, rng, ops);
            }
        }

        private static JsonNode? RandomValue(Random rng) => rng.Next(9) switch
        {
            0 => null,
            1 => JsonValue.Create(true),
            2 => JsonValue.Create(rng.Next(-5, 1_000_000)),
            3 => JsonValue.Create(""),
            4 => JsonValue.Create("AAAA"),
            5 => new JsonArray(),
            6 => new JsonObject(),
            7 => JsonValue.Create("did:example:bob#key-x25519-1"),
            _ => JsonValue.Create(Base64Url.Encode(new byte[rng.Next(0, 80)])),
        };

        private static string Structural(string input, Random rng, List<string> ops, string where)
        {
            JsonNode? root;
            try { root = JsonNode.Parse(input); }
            catch (System.Text.Json.JsonException) { return Apply(input, rng, ops); }
            if (root is null) return input;
            var nodes = new List<JsonNode>();
            Walk(root, nodes);
            var target = nodes[rng.Next(nodes.Count)];
            switch (rng.Next(4))
            {
                case 0 when target is JsonObject o && o.Count > 0:
                {
                    var name = o.ElementAt(rng.Next(o.Count)).Key;
                    ops.Add($"{where}remove '{name}'");
                    o.Remove(name);
                    break;
                }
                case 1 when target is JsonObject o:
                {
                    var name = Names[rng.Next(Names.Length)];
                    ops.Add($"{where}set '{name}'");
                    o[name] = RandomValue(rng);
                    break;
                }
                case 2 when target is JsonValue v && v.TryGetValue<string>(out var s) && Base64Url.TryDecode(s, out var bytes):
                {
                    ops.Add($"{where}bytes of {target.GetPath()}");
                    var changed = rng.Next(4) switch
                    {
                        0 when bytes.Length > 0 => bytes.Select((b, i) => i == rng.Next(bytes.Length) ? (byte)(b ^ (1 << rng.Next(8))) : b).ToArray(),
                        1 when bytes.Length > 0 => bytes[..rng.Next(bytes.Length)],
                        2 => [.. bytes, (byte)rng.Next(256)],
                        _ => Base64Url.Decode(Base64Url.Encode(bytes.Reverse().ToArray())),
                    };
                    Replace(target, JsonValue.Create(Base64Url.Encode(changed)));
                    break;
                }
                case 3 when target is JsonArray a:
                    ops.Add($"{where}array edit {target.GetPath()}");
                    if (a.Count > 0 && rng.Next(2) == 0) a.RemoveAt(rng.Next(a.Count));
                    else a.Add(a.Count > 0 ? a[rng.Next(a.Count)]?.DeepClone() : RandomValue(rng));
                    break;
                default:
                    if (target.Parent is null) return Apply(input, rng, ops);
                    ops.Add($"{where}replace {target.GetPath()}");
                    Replace(target, RandomValue(rng));
                    break;
            }
            return root.ToJsonString();
        }

        private static string InsideProtected(string input, Random rng, List<string> ops)
        {
            JsonNode? root;
            try { root = JsonNode.Parse(input); }
            catch (System.Text.Json.JsonException) { return Apply(input, rng, ops); }
            var holder = root?["protected"] is not null ? root.AsObject() : root?["signatures"]?[0] as JsonObject;
            if (holder?["protected"] is not JsonValue pv || !pv.TryGetValue<string>(out var b64) || !Base64Url.TryDecode(b64, out var bytes))
                return Apply(input, rng, ops);
            string json = Text.UTF8.GetString(bytes);
            var mutated = Structural(json, rng, ops, "protected: ");
            holder["protected"] = Base64Url.Encode(Text.UTF8.GetBytes(mutated));
            return root!.ToJsonString();
        }

        private static void Walk(JsonNode node, List<JsonNode> into)
        {
            into.Add(node);
            if (node is JsonObject o) foreach (var (_, v) in o) { if (v is not null) Walk(v, into); }
            else if (node is JsonArray a) foreach (var v in a) { if (v is not null) Walk(v, into); }
        }

        private static void Replace(JsonNode target, JsonNode? value)
        {
            switch (target.Parent)
            {
                case JsonObject po: po[target.GetPropertyName()] = value; break;
                case JsonArray pa: pa[target.GetElementIndex()] = value; break;
            }
        }
    }

    // ------------------------------------------------------------------ FsCheck round trips

    private static ContentAlg AlgFrom(int i) => (ContentAlg)(((i % 3) + 3) % 3);

    private static OkpKey[]? RandomRecipients(int seed, byte n, string? label)
    {
        int count = 1 + n % 4;
        try
        {
            return Enumerable.Range(0, count)
                .Select(i => OkpKey.GenerateX25519($"did:example:{label}#key-{i}", Entropy.Seeded("fscheck-recipients", $"{seed}/{i}")))
                .ToArray();
        }
        catch (JoseException) { return null; } // a generated label that is not well-formed Unicode: refused up front, nothing to round-trip
    }

    [FsProperty(MaxTest = 60)]
    public bool Anoncrypt_round_trips_for_every_recipient(int alg, byte[] plaintext, int seed, byte n, string? label)
    {
        var recipients = RandomRecipients(seed, n, label);
        if (recipients is null) return true;
        plaintext ??= [];
        var enc = AlgFrom(alg);
        var jwe = Jwe.AnonEncrypt(plaintext, recipients, enc, Entropy.Seeded("fscheck-anon", seed.ToString()));
        return recipients.All(r =>
        {
            var d = Jwe.Decrypt(jwe, kid => kid == r.Kid ? r : null, _ => null);
            return d.Plaintext.AsSpan().SequenceEqual(plaintext) && d.RecipientKid == r.Kid && d.Enc == ContentEncryption.Name(enc) && d.SenderKid is null;
        });
    }

    [FsProperty(MaxTest = 40)]
    public bool Authcrypt_round_trips_for_every_recipient(byte[] plaintext, int seed, byte n, string? label)
    {
        var recipients = RandomRecipients(seed, n, label);
        if (recipients is null) return true;
        plaintext ??= [];
        var sender = OkpKey.GenerateX25519("did:example:sender#key-x25519-1", Entropy.Seeded("fscheck-sender", seed.ToString()));
        var jwe = Jwe.AuthEncrypt(plaintext, sender, recipients, Entropy.Seeded("fscheck-auth", seed.ToString()));
        return recipients.All(r =>
        {
            var d = Jwe.Decrypt(jwe, kid => kid == r.Kid ? r : null, kid => kid == sender.Kid ? sender.PublicOnly() : null);
            return d.Plaintext.AsSpan().SequenceEqual(plaintext) && d.SenderKid == sender.Kid && d.Alg == Jwe.AlgAuthcrypt;
        });
    }

    [FsProperty(MaxTest = 40)]
    public bool Non_recipients_cannot_decrypt(int alg, byte[] plaintext, int seed, byte n)
    {
        var recipients = RandomRecipients(seed, n, "r")!;
        var outsider = OkpKey.GenerateX25519(recipients[0].Kid, Entropy.Seeded("fscheck-outsider", seed.ToString()));
        var jwe = Jwe.AnonEncrypt(plaintext ?? [], recipients, AlgFrom(alg), Entropy.Seeded("fscheck-outsider-jwe", seed.ToString()));
        try { Jwe.Decrypt(jwe, kid => kid == outsider.Kid ? outsider : null, _ => null); return false; }
        catch (JoseException) { return true; }
    }

    [FsProperty(MaxTest = 60)]
    public bool Jws_round_trips_and_any_payload_change_is_refused(byte[] payload, int seed, int flip)
    {
        payload ??= [];
        var signer = OkpKey.GenerateEd25519("did:example:signer#key-1", Entropy.Seeded("fscheck-jws", seed.ToString()));
        var jws = Jws.Sign(payload, signer);
        if (!Jws.Verify(jws, _ => signer.PublicOnly()).Payload.AsSpan().SequenceEqual(payload)) return false;
        var o = JsonNode.Parse(jws)!.AsObject();
        var changed = payload.Length == 0 ? [1] : payload.ToArray();
        if (payload.Length > 0) changed[((flip % changed.Length) + changed.Length) % changed.Length] ^= 0x40;
        o["payload"] = Base64Url.Encode(changed);
        try { Jws.Verify(o.ToJsonString(), _ => signer.PublicOnly()); return false; }
        catch (JoseException) { return true; }
    }
}
