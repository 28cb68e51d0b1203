using System.Text.Json.Nodes;
using Conformance.Wire.Dids;

namespace Conformance.Wire.Tests.Dids;

public class DidResolverTests
{
    // shared/vectors/did-peer-2.json "peer2-to-peer3" (= core.md Method 3 example).
    private const string Peer2 = "did:peer:2.Ez6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc.Vz6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V.Vz6MkgoLTnTypo3tDRwCkZXSccTPHRLhF4ZnjhueYAFpEX6vg.SeyJ0IjoiZG0iLCJzIjoiaHR0cHM6Ly9leGFtcGxlLmNvbS9lbmRwb2ludCIsInIiOlsiZGlkOmV4YW1wbGU6c29tZW1lZGlhdG9yI3NvbWVrZXkiXSwiYSI6WyJkaWRjb21tL3YyIiwiZGlkY29tbS9haXAyO2Vudj1yZmM1ODciXX0";
    private const string Peer3 = "did:peer:3zQmS19jtYDvGtKVrJhQnRFpBQAx3pJ9omx2HpNrcXFuRCz9";
    // shared/vectors/did-peer-4.json "hello-world".
    private const string Peer4Long = "did:peer:4zQmb7xLdVY9TXx8oov5XgpGUmGELgqiAV2699s43i6Qdm3M:zQSJgiFTYiCHjQ9MktwNThRXM7a";
    private const string Peer4Short = "did:peer:4zQmb7xLdVY9TXx8oov5XgpGUmGELgqiAV2699s43i6Qdm3M";
    private const string Rfc0160Did = "QUmsj7xwB82QAuuzfmvhAi";
    private const string Rfc0160Verkey = "DoDMNYwMrSN8ygGKabgz5fLA9aWV4Vi8SLX6CiyN2H4a";

    private sealed class FakeWeb : IDidResolver
    {
        public int Calls;
        public bool CanResolve(string did) => did.StartsWith("did:web:", StringComparison.Ordinal);

        public ValueTask<DidDocument> ResolveAsync(string did, CancellationToken ct = default)
        {
            Calls++;
            var doc = DidKey.Resolve("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK").Json;
            doc["id"] = did;
            return ValueTask.FromResult(DidDocument.FromJson(doc));
        }
    }

    [Test]
    public async Task Self_resolving_methods_and_their_short_forms()
    {
        var r = new DidResolver();
        Assert.That((await r.ResolveAsync("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")).Id,
            Is.EqualTo("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"));
        Assert.That((await r.ResolveAsync("did:peer:0z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH")).Authentication, Has.Count.EqualTo(1));

        // The short forms are unknown until their long form was seen.
        Assert.That(r.CanResolve(Peer3), Is.False);
        Assert.That(r.CanResolve(Peer4Short), Is.False);
        await Assert.ThrowsAsync<DidException>(async () => await r.ResolveAsync(Peer3));
        await Assert.ThrowsAsync<DidException>(async () => await r.ResolveAsync(Peer4Short));

        Assert.That((await r.ResolveAsync(Peer2 + "#key-1")).Id, Is.EqualTo(Peer2));
        Assert.That((await r.ResolveAsync(Peer4Long)).Id, Is.EqualTo(Peer4Long));
        Assert.That(r.CanResolve(Peer3) && r.CanResolve(Peer4Short), Is.True);
        Assert.That((await r.ResolveAsync(Peer3)).Id, Is.EqualTo(Peer3));
        var shortDoc = await r.ResolveAsync(Peer4Short);
        Assert.That(shortDoc.Id, Is.EqualTo(Peer4Short));
        Assert.That(shortDoc.AlsoKnownAs, Is.EqualTo(new[] { Peer4Long }));
        Assert.That((await r.ResolveAsync(Peer4Long)).Id, Is.EqualTo(Peer4Long), "the long form still resolves to the long-form document");
    }

    [Test]
    public async Task Remembered_documents_resolve_unqualified_and_did_sov_names()
    {
        var r = new DidResolver();
        Assert.That(r.CanResolve(Rfc0160Did), Is.False);
        r.Remember(DidDocument.FromJson(LegacyDidDoc.Create(Rfc0160Did, Rfc0160Verkey, "http://x", [])));
        Assert.That((await r.ResolveAsync(Rfc0160Did)).Authentication.Single().Verkey, Is.EqualTo(Rfc0160Verkey));
        Assert.That((await r.ResolveAsync("did:sov:" + Rfc0160Did)).Authentication.Single().Verkey, Is.EqualTo(Rfc0160Verkey));
        Assert.That(await r.ResolveVerkeyAsync("did:sov:" + Rfc0160Did + "#1"), Is.EqualTo(Rfc0160Verkey));
    }

    [Test]
    public async Task Remember_checks_peer_dids_against_their_document()
    {
        var r = new DidResolver();
        var input = new JsonObject { ["hello"] = "world" };
        // A did:peer:1 document whose hash matches is remembered and then resolves…
        var genesis = new JsonObject { ["@context"] = "https://www.w3.org/ns/did/v1", ["verificationMethod"] = new JsonArray() };
        var did1 = DidPeer.Numalgo1(DidDocument.FromJson(genesis));
        var withId = genesis.DeepClone().AsObject();
        withId["id"] = did1;
        r.Remember(DidDocument.FromJson(withId));
        Assert.That((await r.ResolveAsync(did1)).Id, Is.EqualTo(did1));
        // …one that does not is refused.
        withId["extra"] = true;
        Assert.Throws<DidException>(() => r.Remember(DidDocument.FromJson(withId)));
        // A short did:peer:4 document carries its long form, which is checked.
        var shortDoc = DidPeer.Resolve(DidPeer.Numalgo4(input, shortForm: true), DidDocument.FromJson(input));
        var r2 = new DidResolver();
        r2.Remember(shortDoc);
        Assert.That((await r2.ResolveAsync(Peer4Short)).Id, Is.EqualTo(Peer4Short));
        Assert.That((await r2.ResolveAsync(Peer4Long)).Id, Is.EqualTo(Peer4Long));
        Assert.Throws<DidException>(() => r2.Remember(DidDocument.FromJson(input)), "a document without id");
    }

    [Test]
    public void AlsoKnownAs_claims_are_not_trusted_as_names()
    {
        var r = new DidResolver();
        var json = LegacyDidDoc.Create(Rfc0160Did, Rfc0160Verkey, "http://x", []);
        json["alsoKnownAs"] = new JsonArray("did:web:bank.example");
        r.Remember(DidDocument.FromJson(json));
        Assert.That(r.CanResolve("did:web:bank.example"), Is.False);
    }

    [Test]
    public async Task Plugins_resolve_other_methods()
    {
        var web = new FakeWeb();
        var r = new DidResolver().Add(web);
        Assert.That(r.CanResolve("did:web:example.com"), Is.True);
        var doc = await r.ResolveAsync("did:web:example.com#key-1");
        Assert.That(doc.Id, Is.EqualTo("did:web:example.com"));
        Assert.That(web.Calls, Is.EqualTo(1));
        await Assert.ThrowsAsync<DidException>(async () => await new DidResolver().ResolveAsync("did:web:example.com"));
        Assert.Throws<DidException>(() => r.Resolve("did:web:example.com"), "the synchronous resolver uses no plugin");
    }

    [Test]
    public async Task Key_references_resolve_to_verkeys()
    {
        var r = new DidResolver();
        Assert.That(await r.ResolveVerkeyAsync("8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"), Is.EqualTo("8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"));
        Assert.That(await r.ResolveVerkeyAsync("did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th"), Is.EqualTo("8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"));
        var doc = DidPeer.Resolve(Peer2);
        Assert.That(await r.ResolveVerkeyAsync(Peer2 + "#key-2"), Is.EqualTo(doc.FindMethod("#key-2")!.Verkey));
        await Assert.ThrowsAsync<DidException>(async () => await r.ResolveVerkeyAsync(Peer2));
        await Assert.ThrowsAsync<DidException>(async () => await r.ResolveVerkeyAsync(Peer2 + "#key-9"));
        await Assert.ThrowsAsync<DidException>(async () => await r.ResolveVerkeyAsync("not-a-key"));
    }
}
