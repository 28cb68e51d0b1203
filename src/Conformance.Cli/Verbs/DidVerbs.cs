// conformance did resolve <did>: resolves with Conformance.Wire.Dids.DidResolver and shows the W3C DID document
// with a DIDComm view of its services (DidDocument.DidCommServices: RFC 0160 IndyAgent, RFC 0067
// did-communication, DIDComm v2 DIDCommMessaging) and its keys as base58 verkeys / did:key.
//   Resolve from the DID alone: did:key (RFC 0360 / W3C CCG did:key), did:peer:0, did:peer:2, long-form did:peer:4.
//   did:peer:1, did:peer:3 and short-form did:peer:4 exist only alongside a document (did_doc~attach, or the
//   did:peer:2 / long form they shorten): --doc FILE provides it, and it is checked against the DID
//   (numalgo 1 hash, did:peer:3 of the did:peer:2, did:peer:4 hash). Unqualified RFC 0160 DIDs need --doc too.
using System.Text.Json.Nodes;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;

namespace Conformance.Cli.Verbs;

public static class DidVerbs
{
    private static readonly Option Doc = new("--doc", "FILE",
        "the DID document received with the DID (did_doc~attach content, RFC 0160 DIDDoc, long-form doc), '-' for stdin");

    public static IReadOnlyList<Verb> All { get; } =
    [
        new Verb("did resolve",
            "Resolve a DID (did:key, did:peer:0/2/4; others with --doc) and show its DIDComm services.",
            "<did>", 1, 1, [Doc], Resolve,
            """
            Prints {"did", "document", "keys", "didcomm_services"}; each service gives its endpoint, recipient keys
            (base58), routing keys (as written), accept and priority, sorted by priority.
            did:peer:1, did:peer:3 and short-form did:peer:4 cannot be resolved from the DID alone: pass the document
            that came with them (or, for did:peer:3, the did:peer:2 document) with --doc.

            examples:
              conformance did resolve did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th
              conformance did resolve 'did:peer:2.Vz6Mk...Ez6LS...SeyJ0IjoiZG0i...'
            """),
    ];

    private static async Task<int> Resolve(Invocation inv)
    {
        var did = inv.Args.Arg(0)!.Trim();
        var parts = did.Split(':', 3);
        var qualified = parts is ["did", { Length: > 0 }, { Length: > 0 }];
        if (!qualified && !LegacyDidDoc.IsUnqualifiedDid(did))
            throw new CliException($"'{DidException.Abbrev(did)}' is not a DID (did:<method>:<id>) nor an unqualified RFC 0160 DID");

        var method = qualified ? parts[1] : null;
        if (method is not null and not "key" and not "peer" && !inv.Args.Has(Doc.Name))
            throw new CliException($"did:{method} is not resolved by this tool (it resolves did:key and did:peer offline, without network); give the document with --doc FILE");

        var resolver = new DidResolver();
        if (inv.Args.Value(Doc.Name) is { } docPath)
        {
            var json = Invocation.ParseObject(inv.ReadInput(docPath, "the --doc DID document"), "the --doc DID document");
            // A genesis document (did:peer:1) or a legacy DIDDoc may come without its id: it is the DID's.
            if (json["id"] is null) json["id"] = DidResolver.DidOf(did);
            try { resolver.Remember(DidDocument.FromJson(json)); }
            catch (DidException e) { throw new CliException($"the --doc document is not usable for {DidException.Abbrev(did)}: {e.Message}"); }
        }
        else if (did.StartsWith(DidPeer.Prefix, StringComparison.Ordinal) && !DidPeer.IsSelfResolving(DidResolver.DidOf(did)))
        {
            DidPeer.NumalgoOf(did);   // an unknown numalgo is its own error
            throw new CliException($"{DidException.Abbrev(did)} is a short form (did:peer:1, did:peer:3 or short did:peer:4) that resolves only with its document: pass it with --doc FILE (for did:peer:3, the did:peer:2 document; for short did:peer:4, the long form's)");
        }

        DidDocument document;
        try
        {
            document = await resolver.ResolveAsync(did, inv.Cancellation).ConfigureAwait(false);
        }
        catch (DidException e) when (inv.Args.Has(Doc.Name))
        {
            throw new CliException($"the --doc document does not resolve {DidException.Abbrev(did)}: {e.Message}");
        }

        var keys = new JsonArray();
        foreach (var m in document.VerificationMethods)
        {
            keys.Add(new JsonObject
            {
                ["id"] = m.Id,
                ["type"] = m.Type,
                ["key_type"] = m.Codec == KeyCodec.Ed25519Pub ? "Ed25519" : "X25519",
                ["base58"] = m.Verkey,
                ["did_key"] = m.AsDidKey,
            });
        }

        var services = new JsonArray();
        foreach (var s in document.DidCommServices())
        {
            services.Add(new JsonObject
            {
                ["id"] = s.Id,
                ["type"] = s.Type,
                ["endpoint"] = s.Endpoint,
                ["recipient_keys"] = Strings(s.RecipientKeys),
                ["routing_keys"] = Strings(s.RoutingKeys),
                ["accept"] = Strings(s.Accept),
                ["priority"] = s.Priority,
            });
        }

        inv.WriteJson(new JsonObject
        {
            ["did"] = document.Id,
            ["document"] = document.Json.DeepClone(),
            ["keys"] = keys,
            ["didcomm_services"] = services,
        });
        return Entry.ExitOk;
    }

    private static JsonArray Strings(IEnumerable<string> items) => new(items.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray());
}
