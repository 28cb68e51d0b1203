using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;
using Conformance.Wire.Envelopes;
using static Conformance.Wire.Tests.Envelopes.EnvelopeTestKit;

namespace Conformance.Wire.Tests.Envelopes;

/// <summary>
/// 1,000 seeded, reproducible mutations of valid envelopes (byte flips, truncations, insertions, deletions, JSON
/// member deletions/replacements at the top level and inside the protected header). Each must either be rejected
/// with an <see cref="EnvelopeException"/> or, when the mutation is immaterial (say, unused base64 bits), still
/// yield exactly the original plaintext and sender. Nothing else may escape.
/// </summary>
public class Rfc0019MutationTests
{
    private const int Seed = 0x0019;
    private const int Mutations = 1000;

    [Test]
    public void Thousand_mutations_never_throw_anything_but_EnvelopeException()
    {
        var keys = Entropy.Seeded("mutations", "keys");
        var alice = Ed25519KeyPair.Generate(keys);
        var bob = Ed25519KeyPair.Generate(keys);
        var carol = Ed25519KeyPair.Generate(keys);
        var plaintext = System.Text.Encoding.UTF8.GetBytes("""{"@type":"https://didcomm.org/basicmessage/1.0/message","@id":"1","content":"Your hovercraft is full of eels."}""");
        var bases = new (string Envelope, string? Sender)[]
        {
            (Rfc0019.Pack(plaintext, [carol.Verkey, bob.Verkey], alice, Entropy.Seeded("mutations", "auth")), alice.Verkey),
            (Rfc0019.Pack(plaintext, [bob.Verkey, carol.Verkey], null, Entropy.Seeded("mutations", "anon")), null),
            (ManualEnvelope.Build(plaintext, [bob], alice, new() { Padded = true, XChaCha = true }), alice.Verkey),
        };

        var random = new Random(Seed);
        var outcomes = new Dictionary<string, int>();
        for (int i = 0; i < Mutations; i++)
        {
            var (original, sender) = bases[i % bases.Length];
            var (mutant, what) = Mutate(original, random);
            string outcome;
            try
            {
                var m = Rfc0019.Unpack(mutant, Holding(bob));
                Assert.That(m.Plaintext, Is.EqualTo(plaintext), $"mutation #{i} ({what}) succeeded with a different plaintext");
                Assert.That(m.SenderVerkey, Is.EqualTo(sender), $"mutation #{i} ({what}) succeeded with a different sender");
                outcome = "still valid";
            }
            catch (EnvelopeException e)
            {
                AssertReadable(e, alice, bob, carol);
                outcome = e.Error.ToString();
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation #{i} ({what}) threw {e.GetType().Name}: {e.Message}");
                throw;
            }
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        TestContext.Out.WriteLine(string.Join(", ", outcomes.OrderByDescending(p => p.Value).Select(p => $"{p.Key}={p.Value}")));
        Assert.That(outcomes.GetValueOrDefault("still valid"), Is.LessThan(Mutations / 10), "most mutations must be caught");
        Assert.That(outcomes.Keys, Has.Count.GreaterThanOrEqualTo(6), "mutations reach many different checks");
    }

    private static readonly byte[] Interesting = "\"{}[],:\\= A0-_+/"u8.ToArray().Concat(new byte[] { 0x00, 0x7F, 0xC3, 0xFF }).ToArray();

    private static (byte[] Mutant, string What) Mutate(string envelope, Random random)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(envelope);
        switch (random.Next(10))
        {
            case 0:
            {
                int at = random.Next(bytes.Length);
                int bit = random.Next(8);
                bytes[at] ^= (byte)(1 << bit);
                return (bytes, $"flip bit {bit} of byte {at}");
            }
            case 1:
            {
                int length = random.Next(bytes.Length);
                return (bytes[..length], $"truncate to {length}");
            }
            case 2:
            {
                int at = random.Next(bytes.Length + 1);
                var inserted = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => random.Next(2) == 0 ? Interesting[random.Next(Interesting.Length)] : (byte)random.Next(256)).ToArray();
                return ([.. bytes[..at], .. inserted, .. bytes[at..]], $"insert {Convert.ToHexString(inserted)} at {at}");
            }
            case 3:
            {
                int at = random.Next(bytes.Length);
                int count = 1 + random.Next(Math.Min(8, bytes.Length - at));
                return ([.. bytes[..at], .. bytes[(at + count)..]], $"delete {count} bytes at {at}");
            }
            case 4:
            {
                var o = Parse(envelope);
                var name = o.Select(p => p.Key).ElementAt(random.Next(o.Count));
                o.Remove(name);
                return (Utf8(o), $"delete member {name}");
            }
            case 5:
            {
                var o = Parse(envelope);
                var name = o.Select(p => p.Key).ElementAt(random.Next(o.Count));
                var (value, label) = Junk(random, o);
                o[name] = value;
                return (Utf8(o), $"replace member {name} with {label}");
            }
            case 6:
            case 7:
            {
                // Inside the protected header: delete or replace a random node, then re-encode.
                var o = Parse(envelope);
                var protectedText = o["protected"]!.GetValue<string>();
                var header = JsonNode.Parse(Base64Url.Decode(protectedText))!;
                var slots = new List<(JsonNode Parent, object Key)>();
                Collect(header, slots);
                var (parent, key) = slots[random.Next(slots.Count)];
                string what;
                if (random.Next(2) == 0)
                {
                    if (parent is JsonObject po) po.Remove((string)key); else ((JsonArray)parent).RemoveAt((int)key);
                    what = $"header: delete {key}";
                }
                else
                {
                    var (value, label) = Junk(random, parent as JsonObject);
                    if (parent is JsonObject po) po[(string)key] = value; else ((JsonArray)parent)[(int)key] = value;
                    what = $"header: replace {key} with {label}";
                }
                o["protected"] = Base64Url.Encode(System.Text.Encoding.UTF8.GetBytes(header.ToJsonString()), protectedText.EndsWith('='));
                return (Utf8(o), what);
            }
            case 8:
            {
                // Flip a byte of the decoded header and re-encode (yields broken JSON, odd characters, wrong kids...).
                var o = Parse(envelope);
                var raw = Base64Url.Decode(o["protected"]!.GetValue<string>());
                int at = random.Next(raw.Length);
                raw[at] ^= (byte)(1 + random.Next(255));
                o["protected"] = Base64Url.Encode(raw);
                return (Utf8(o), $"header byte {at} changed");
            }
            default:
            {
                // Swap two members' values, or cut a base64 value short.
                var o = Parse(envelope);
                var names = o.Select(p => p.Key).ToArray();
                var a = names[random.Next(names.Length)];
                var b = names[random.Next(names.Length)];
                if (random.Next(2) == 0)
                {
                    var va = o[a]!.DeepClone();
                    o[a] = o[b]!.DeepClone();
                    o[b] = va;
                    return (Utf8(o), $"swap {a} and {b}");
                }
                var text = o[a]!.GetValue<string>();
                int keep = random.Next(text.Length);
                o[a] = text[..keep];
                return (Utf8(o), $"cut {a} to {keep} chars");
            }
        }
    }

    private static void Collect(JsonNode node, List<(JsonNode, object)> slots)
    {
        if (node is JsonObject o)
            foreach (var (k, v) in o.ToList())
            {
                slots.Add((o, k));
                if (v is not null) Collect(v, slots);
            }
        else if (node is JsonArray a)
            for (int i = 0; i < a.Count; i++)
            {
                slots.Add((a, i));
                if (a[i] is { } child) Collect(child, slots);
            }
    }

    private static (JsonNode? Value, string Label) Junk(Random random, JsonObject? siblings)
    {
        switch (random.Next(9))
        {
            case 0: return (null, "null");
            case 1: return (JsonValue.Create(random.Next(-5, 1000)), "a number");
            case 2: return (JsonValue.Create(true), "true");
            case 3: return (JsonValue.Create(""), "an empty string");
            case 4: return (JsonValue.Create("!!not base64!!"), "non-base64 text");
            case 5: return (new JsonObject { ["kid"] = "x" }, "an object");
            case 6: return (new JsonArray(1, "two", null), "an array");
            case 7: return (JsonValue.Create(Base64Url.Encode(RandomBytes(random, random.Next(0, 80)))), "random base64");
            default:
                if (siblings is { Count: > 0 })
                {
                    var other = siblings.ElementAt(random.Next(siblings.Count));
                    return (other.Value?.DeepClone(), $"the value of {other.Key}");
                }
                return (JsonValue.Create("\u0000\u001f\u00e9"), "control characters");
        }
    }

    private static byte[] RandomBytes(Random random, int n)
    {
        var b = new byte[n];
        random.NextBytes(b);
        return b;
    }

    private static byte[] Utf8(JsonNode node) => System.Text.Encoding.UTF8.GetBytes(node.ToJsonString());
}
