using System.Text.Json.Nodes;
using Conformance.Wire.Dids;

namespace Conformance.Wire.Tests.Dids;

/// <summary>
/// Every case of shared/vectors/did-peer-2.json (decentralized-identity/did-peer-2 tests) and
/// shared/vectors/did-peer-4.json (decentralized-identity/did-peer-4 README), read at test time, one test each.
/// </summary>
public class DidPeerVectorTests
{
    private static IEnumerable<TestCaseData> Cases(string file)
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.Vectors, file)))!.AsObject();
        foreach (var c in root["cases"]!.AsArray())
            yield return new TestCaseData(c!.ToJsonString()).SetName($"{file}: {(string)c["name"]!}");
    }

    public static IEnumerable<TestCaseData> Peer2Cases() => Cases("did-peer-2.json");

    public static IEnumerable<TestCaseData> Peer4Cases() => Cases("did-peer-4.json");

    private static char PurposeCode(string relationship) => relationship switch
    {
        "authentication" => 'V',
        "keyAgreement" => 'E',
        "assertionMethod" => 'A',
        "capabilityInvocation" => 'I',
        "capabilityDelegation" => 'D',
        _ => throw new ArgumentException(relationship),
    };

    /// <summary>Same content and the same property order as the reference implementation's output.</summary>
    private static void AssertSameJson(JsonNode actual, JsonNode expected)
    {
        Assert.That(JsonNode.DeepEquals(actual, expected), Is.True, () => $"expected {expected.ToJsonString()}\n but got {actual.ToJsonString()}");
        Assert.That(actual.ToJsonString(), Is.EqualTo(expected.ToJsonString()), "property order");
    }

    [TestCaseSource(nameof(Peer2Cases))]
    public void DidPeer2_vector(string caseJson)
    {
        var c = JsonNode.Parse(caseJson)!.AsObject();
        var did = (string)c["did"]!;
        var checks = 0;

        if (c["inputs"] is JsonObject inputs)
        {
            var keys = inputs["keys"]!.AsArray()
                .Select(k => (PurposeCode((string)k!["purpose"]!), (string)k["multibase"]!)).ToList();
            // The vector's input services are its resolved services minus the ids the resolver assigned
            // ("#service", "#service-1": core.md "If the id is NOT set").
            var services = ((JsonArray?)c["document"]?["service"] ?? [])
                .Select(s => { var o = s!.DeepClone().AsObject(); o.Remove("id"); return o; }).ToList();
            Assert.That(DidPeer.Numalgo2(keys, services), Is.EqualTo(did));
            checks++;
        }

        var resolved = DidPeer.Resolve(did);
        Assert.That(resolved.Id, Is.EqualTo(did));
        if (c["document"] is JsonObject expected)
        {
            AssertSameJson(resolved.Json, expected);
            checks++;
        }

        if (c["did_peer_3"] is JsonNode p3Node)
        {
            var p3 = (string)p3Node!;
            Assert.That(DidPeer.Numalgo2To3(did), Is.EqualTo(p3));
            Assert.That(resolved.AlsoKnownAs, Is.EqualTo(new[] { p3 }));
            var doc3 = DidPeer.Resolve(p3, resolved);
            Assert.That(doc3.Id, Is.EqualTo(p3));
            Assert.That(doc3.AlsoKnownAs, Is.EqualTo(new[] { did }));
            Assert.That(doc3.VerificationMethods.Select(m => m.Multibase), Is.EqualTo(resolved.VerificationMethods.Select(m => m.Multibase)));
            checks++;
        }
        Assert.That(checks, Is.GreaterThan(0), "the vector case had nothing this test knows how to check");
    }

    [TestCaseSource(nameof(Peer4Cases))]
    public void DidPeer4_vector(string caseJson)
    {
        var c = JsonNode.Parse(caseJson)!.AsObject();
        var input = c["input_document"]!.AsObject();
        var longDid = (string)c["did_long"]!;
        var resolvedShort = c["resolved_short"] as JsonObject;
        var resolvedLong = c["resolved_long"] as JsonObject;

        Assert.That(DidPeer.Numalgo4(input), Is.EqualTo(longDid), "encode (long form)");
        var shortDid = (string?)resolvedShort?["id"] ?? (string)resolvedLong!["alsoKnownAs"]![0]!;
        Assert.That(DidPeer.Numalgo4(input, shortForm: true), Is.EqualTo(shortDid), "encode (short form)");
        Assert.That(DidPeer.Numalgo4Short(longDid), Is.EqualTo(shortDid));

        var fromLong = DidPeer.Resolve(longDid);
        Assert.That(fromLong.Id, Is.EqualTo(longDid));
        Assert.That(fromLong.AlsoKnownAs, Does.Contain(shortDid));
        if (resolvedLong is not null) AssertSameJson(fromLong.Json, resolvedLong);

        if (resolvedShort is not null)
        {
            // The short form resolves from the input document (as received) or from the long-form document.
            AssertSameJson(DidPeer.Resolve(shortDid, DidDocument.FromJson(input)).Json, resolvedShort);
            AssertSameJson(DidPeer.Resolve(shortDid, fromLong).Json, resolvedShort);
        }
    }
}
