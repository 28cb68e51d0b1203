// The `connection` attribute of RFC 0160 §1 (request) and §2 (response): {"DID": ..., "DIDDoc": {...}}.
//
// §1 Attributes: "The connection attribute contains the DID and DIDDoc attributes." "The DIDDoc contains the DID
// document for the requesting user. If the DID method for the presented DID is not a peer method and the DID
// document is resolvable on a ledger, the DIDDoc attribute is optional."
// §1 Request processing: "the inviter evaluates the provided DID and DID document according to the DID Method Spec."
// "The inviter should check the information presented with the keys used in the wire-level message transmission
// to ensure they match."
// §1 Request Errors / §2 Response Errors list the reasons to reject: "Unsupported DID method for provided DID",
// "DID Document Invalid", "Unsupported key type", "Unsupported endpoint protocol".
//
// What is accepted (tolerant where real agents differ, strict where a check protects the connection):
// * member names DID/DIDDoc (RFC 0160) and did/did_doc (the Indy HIPE, seed 004);
// * DID methods: unqualified Indy DIDs and did:sov with the RFC 0160 legacy DIDDoc (ACA-Py, Credo), did:peer
//   (numalgo 0/1/2/4: the document must match the DID, see DidPeer.Resolve), did:key, and any DID the agent's resolver
//   can resolve. Anything else is "Unsupported DID method";
// * any document shape DidDocument reads (legacy publicKey/IndyAgent, DID Core did-communication); the DID must name
//   the document (its id, or the did:sov twin of an unqualified DID);
// * a DIDComm v1 service (IndyAgent or did-communication) with Ed25519 recipient keys and an http(s)/ws(s) endpoint
//   (or a DID agency reference, or didcomm:transport/queue for return-route agents).
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;
using Conformance.Wire.Envelopes;

namespace Conformance.Agent.Connections;

public sealed partial class ConnectionsProtocol
{
    /// <summary>The other side's DID as checked: the DID, its document exactly as received (or resolved), where to send.</summary>
    private sealed record TheirDid(string Did, JsonObject DocJson, DidDocument Doc, ServiceRecord Service);

    /// <summary>
    /// Checks a `connection` attribute. Every failure is a <see cref="ProblemReportException"/> with
    /// <paramref name="rejectCode"/> (request_not_accepted / response_not_accepted), threaded by <paramref name="reject"/>.
    /// </summary>
    private async Task<TheirDid> ReadConnectionAsync(JsonNode? node, string? senderVerkey, Func<string, ProblemReportException> reject, CancellationToken ct)
    {
        if (node is not JsonObject conn)
            throw reject("the connection attribute is missing or not an object (RFC 0160: it \"contains the DID and DIDDoc attributes\")");
        var didNode = conn["DID"] ?? conn["did"];
        var did = Str(didNode) is { Length: > 0 } d ? d : throw reject("connection.DID is missing or not a string");
        var docNode = conn.ContainsKey("DIDDoc") ? conn["DIDDoc"] : conn["did_doc"];

        var isPeer = did.StartsWith(DidPeer.Prefix, StringComparison.Ordinal);
        var isKey = DidKey.IsDidKey(did);
        var isLegacy = LegacyDidDoc.IsUnqualifiedDid(did) || did.StartsWith("did:sov:", StringComparison.Ordinal);
        if (!did.StartsWith("did:", StringComparison.Ordinal) && !isLegacy)
            throw reject($"connection.DID '{DidException.Abbrev(did)}' is neither a DID nor an unqualified (Indy) DID");
        if (!isPeer && !isKey && !isLegacy && !_agent.Resolver.CanResolve(did))
            throw reject($"unsupported DID method for provided DID {DidException.Abbrev(did)} (this agent takes unqualified, did:sov, did:peer, did:key and DIDs it can resolve)");

        DidDocument doc;
        JsonObject docJson;
        if (docNode is JsonObject raw)
        {
            docJson = raw;
            try
            {
                var parsed = DidDocument.FromJson(raw);
                if (isPeer)
                {
                    // The peer DID spec is the "DID Method Spec" here: the document must be the one the DID encodes/hashes.
                    if (parsed.Id.Length == 0) { var withId = (JsonObject)raw.DeepClone(); withId["id"] = did; parsed = DidDocument.FromJson(withId); }
                    if (parsed.Id != did) throw new DidException($"the DIDDoc id {DidException.Abbrev(parsed.Id)} is not the DID {DidException.Abbrev(did)}");
                    doc = _agent.Resolver.Remember(parsed);
                }
                else
                {
                    if (!parsed.IsNamed(did))
                        throw new DidException($"the DIDDoc id '{DidException.Abbrev(parsed.Id)}' does not name the DID {DidException.Abbrev(did)}");
                    if (isKey && !KeysOf(parsed).Contains(DidKey.ToVerkey(DidResolver.DidOf(did))))
                        throw new DidException($"the DIDDoc does not contain the key of {DidException.Abbrev(did)}");
                    // A legacy document is remembered so that later messages can resolve the DID. A did:key resolves from
                    // itself (its derived document has no service: the sender's document carries it), and a DID with its
                    // own resolver (did:web, ...) is not overridden by what a peer claims.
                    doc = isLegacy ? _agent.Resolver.Remember(parsed) : parsed;
                }
            }
            catch (DidException e) { throw reject("DID document invalid: " + e.Message); }
        }
        else if (docNode is null)
        {
            if (isPeer && !DidPeer.IsSelfResolving(did) || isLegacy && !_agent.Resolver.CanResolve(did))
                throw reject($"connection.DIDDoc is required for {DidException.Abbrev(did)}: it is a peer DID (RFC 0160 §1: only a DID \"resolvable on a ledger\" may omit it)");
            try { doc = await _agent.Resolver.ResolveAsync(did, ct); }
            catch (DidException e) { throw reject($"connection.DIDDoc is missing and {DidException.Abbrev(did)} could not be resolved: {e.Message}"); }
            docJson = (JsonObject)doc.Json.DeepClone();
        }
        else
        {
            throw reject("connection.DIDDoc must be a JSON object");
        }

        ServiceRecord service;
        try { service = await FirstUsableServiceAsync(doc, "the DID document", ct); }
        catch (ServiceException e) { throw reject(e.Message); }

        // §1 "The inviter should check the information presented with the keys used in the wire-level message
        // transmission to ensure they match." An anoncrypted message has no sender key to compare.
        if (senderVerkey != null && !KeysOf(doc).Contains(senderVerkey))
            throw reject($"the message was packed by {senderVerkey}, which is not a key of the DID document of {DidException.Abbrev(did)}");

        return new TheirDid(did, docJson, doc, service);
    }

    /// <summary>Every Ed25519 key a document names: verification methods and DIDComm v1 recipient keys.</summary>
    private static HashSet<string> KeysOf(DidDocument doc)
    {
        var keys = doc.VerificationMethods.Where(m => m.Codec == KeyCodec.Ed25519Pub).Select(m => m.Verkey).ToHashSet();
        try { foreach (var s in doc.DidCommServices().Where(s => !s.IsV2)) keys.UnionWith(s.RecipientKeys); }
        catch (DidException) { }
        return keys;
    }

    /// <summary>
    /// Best effort, never throws: where to send a rejection when no record exists yet — the first service of the
    /// DID document in a request with inline (base58 or did:key) keys and a URI endpoint, read from the raw JSON so
    /// that even a document rejected as invalid can be answered (RFC 0160 §Errors: the report goes to the sender).
    /// </summary>
    private static ServiceRecord? ReplyServiceOf(JsonNode? connection)
    {
        if (connection is not JsonObject conn) return null;
        var docNode = conn.ContainsKey("DIDDoc") ? conn["DIDDoc"] : conn["did_doc"];
        if (docNode is not JsonObject doc || doc["service"] is not JsonArray services) return null;
        var keyMap = new Dictionary<string, string>();
        foreach (var section in new[] { "publicKey", "verificationMethod" })
            if (doc[section] is JsonArray methods)
                foreach (var m in methods.OfType<JsonObject>())
                    if (Str(m["id"]) is { } id && Str(m["publicKeyBase58"]) is { } b58) { keyMap[id] = b58; keyMap["#" + id.Split('#').Last()] = b58; }
        foreach (var s in services.OfType<JsonObject>())
        {
            if (Str(s["serviceEndpoint"]) is not { } endpoint || !IsSupportedEndpoint(endpoint) || s["recipientKeys"] is not JsonArray rk) continue;
            var keys = new List<string>();
            foreach (var k in rk.Select(Str).OfType<string>())
            {
                var key = keyMap.TryGetValue(k, out var mapped) ? mapped : k.Contains('#') && keyMap.TryGetValue("#" + k.Split('#').Last(), out var frag) ? frag : k;
                try { keys.Add(Rfc0094.ToVerkey(key)); } catch (EnvelopeException) { }
            }
            var routing = new List<string>();
            if (s["routingKeys"] is JsonArray rt)
                foreach (var k in rt.Select(Str).OfType<string>())
                    try { Rfc0094.ToVerkey(k); routing.Add(k); } catch (EnvelopeException) { }
            if (keys.Count > 0) return new ServiceRecord { RecipientKeys = keys, RoutingKeys = routing, Endpoint = endpoint };
        }
        return null;
    }
}
