using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Crypto;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;
using Conformance.Wire.Messages;

namespace Conformance.Agent.DidExchange;

/// <summary>The other side's DID as a request or response presented it, checked, with the service to reach it on.</summary>
/// <param name="ToRemember">A document learned from <c>did_doc~attach</c>, to hand to the resolver once the message is accepted.</param>
internal sealed record TheirDid(string Did, DidDocument Document, ServiceRecord Service, DidDocument? ToRemember);

/// <summary>A chosen DIDComm v1 service and the id it has in its document (the DID URL an implicit invitation names).</summary>
internal sealed record ChosenService(string? Id, ServiceRecord Service);

/// <summary>
/// RFC 0023 §"Request processing": "the responder evaluates the provided DID and DID Doc according to the DID Method
/// Spec" (the requester does the same with the response). This is that evaluation, shared by both roles; each
/// failure is a <see cref="Rejection"/> carrying the RFC's reason:
/// <list type="bullet">
/// <item>Unsupported DID method — not did:peer (numalgo 0–4), did:key, did:web, did:sov, an unqualified DID, or a
/// method of a resolver added to the agent;</item>
/// <item>DID Doc Invalid — no document can be had, it does not parse, it is not the document of that DID (peer DID
/// hash, id), it has no DIDComm service, or the envelope was not packed with one of its keys;</item>
/// <item>Unsupported key type — the service's recipient keys are not Ed25519 (RFC 0019 packs for Ed25519 verkeys;
/// an X25519 key is accepted when the document holds the Ed25519 key it derives from, as Credo does);</item>
/// <item>Unsupported endpoint protocol — no service endpoint this agent can deliver to (http, https, ws, wss, or
/// RFC 0092's <c>didcomm:transport/queue</c>), or only DIDComm v2 services.</item>
/// </list>
/// RFC 0023: "If the did is resolvable (either an inline peer:did or a publicly resolvable DID), the did_doc~attach
/// attribute should not be included." — so a document is taken from the attachment only for DIDs that need one
/// (did:peer:1, short did:peer:4, unqualified, did:sov); for the others it is derived from the DID itself and an
/// attachment, if any, must at least name the same DID.
/// </summary>
internal static class TheirDids
{
    public const string DidDocAttach = "did_doc~attach";
    public const string DidRotateAttach = "did_rotate~attach";
    public const string QueueEndpoint = "didcomm:transport/queue";

    /// <summary>
    /// Evaluates <c>did</c> and <c>did_doc~attach</c> of <paramref name="inbound"/>. <paramref name="checkAttachment"/>
    /// sees a signed or unsigned attachment and its document before anything is believed (it throws a
    /// <see cref="Rejection"/> to refuse it).
    /// </summary>
    public static async Task<TheirDid> EvaluateAsync(ReferenceAgent agent, InboundMessage inbound,
        Action<Attachment, DidDocument> checkAttachment, CancellationToken ct)
    {
        var m = inbound.Message;
        string? did;
        try { did = m.GetString("did"); }
        catch (MessageFormatException e) { throw new Rejection(DidExchangeProblems.InvalidDidDoc, e.Message); }
        // RFC 0023: "The did attribute MUST be included. It indicates the DID being exchanged."
        if (string.IsNullOrEmpty(did))
            throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"the {m.Type.Name} has no 'did' (RFC 0023: \"The did attribute MUST be included\")");
        var kind = MethodOf(agent, did);

        // The attached document, if any: parsed and shown to the caller (signature rules differ per role) first.
        DidDocument? attached = null;
        Attachment? attachment;
        try { attachment = m.Attachments(DidDocAttach).FirstOrDefault(); }
        catch (MessageFormatException e) { throw new Rejection(DidExchangeProblems.InvalidDidDoc, e.Message); }
        if (attachment != null)
        {
            JsonNode content;
            try { content = attachment.JsonContent(); }
            catch (MessageFormatException e) { throw new Rejection(DidExchangeProblems.InvalidDidDoc, "did_doc~attach: " + e.Message); }
            if (content is not JsonObject docJson)
                throw new Rejection(DidExchangeProblems.InvalidDidDoc, "did_doc~attach does not hold a JSON object");
            try { attached = DidDocument.FromJson(docJson); }
            catch (DidException e) { throw new Rejection(DidExchangeProblems.InvalidDidDoc, e.Message); }
            checkAttachment(attachment, attached);
        }

        var (document, toRemember) = await DocumentAsync(agent, did, kind, attached, ct);
        var chosen = await SelectServiceAsync(agent, document, inbound.SenderVerkey, inbound.Session?.IsOpen == true, ct);
        CheckEnvelopeKey(document, chosen.Service, inbound.SenderVerkey, did);
        return new TheirDid(did, document, chosen.Service, toRemember);
    }

    private enum DidKind { SelfResolving, Peer, Legacy, Resolvable }

    /// <summary>The DID methods this agent accepts (RFC 0023 reason "Unsupported DID method for provided DID").</summary>
    private static DidKind MethodOf(ReferenceAgent agent, string did)
    {
        if (!did.StartsWith("did:", StringComparison.Ordinal))
        {
            // RFC 0793: unqualified DIDs are still received until its Step 3.
            if (LegacyDidDoc.IsUnqualifiedDid(did)) return DidKind.Legacy;
            throw new Rejection(DidExchangeProblems.UnsupportedDidMethod, $"'{DidException.Abbrev(did)}' is neither a DID nor an unqualified (RFC 0793) DID");
        }
        var parts = did.Split(':');
        var method = parts.Length > 2 ? parts[1] : "";
        switch (method)
        {
            case "peer":
                char numalgo;
                try { numalgo = DidPeer.NumalgoOf(DidResolver.DidOf(did)); }
                catch (DidException e) { throw new Rejection(DidExchangeProblems.UnsupportedDidMethod, e.Message); }
                return numalgo is '0' or '2' || DidPeer.IsSelfResolving(DidResolver.DidOf(did)) ? DidKind.SelfResolving : DidKind.Peer;
            case "key":
                var msi = DidResolver.DidOf(did)["did:key:".Length..];
                if (KeyCodecOf(msi) is { } codec and not ((ulong)KeyCodec.Ed25519Pub or (ulong)KeyCodec.X25519Pub))
                    throw new Rejection(DidExchangeProblems.UnsupportedKeyType, $"{DidException.Abbrev(did)} is a multicodec 0x{codec:x} key; only Ed25519 keys are supported");
                return DidKind.SelfResolving;
            case "sov":
                return DidKind.Legacy;
            default:
                if (agent.Resolver.CanResolve(did)) return DidKind.Resolvable;
                throw new Rejection(DidExchangeProblems.UnsupportedDidMethod,
                    $"did:{DidException.Abbrev(method, 30)} is not supported (this agent accepts did:peer:1/2/4, did:key, did:web, and did:sov or unqualified DIDs with did_doc~attach)");
        }
    }

    private static async Task<(DidDocument Doc, DidDocument? ToRemember)> DocumentAsync(ReferenceAgent agent, string did, DidKind kind,
        DidDocument? attached, CancellationToken ct)
    {
        try
        {
            switch (kind)
            {
                case DidKind.SelfResolving:
                {
                    var doc = await agent.Resolver.ResolveAsync(did, ct);
                    if (attached != null && attached.Id.Length > 0 && !attached.IsNamed(did) && !doc.IsNamed(attached.Id))
                        throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"did_doc~attach is the document of {DidException.Abbrev(attached.Id)}, not of {DidException.Abbrev(did)}");
                    return (doc, null);
                }
                case DidKind.Peer when attached != null:
                {
                    // did:peer:1 (hash of the stored variant) and short did:peer:4 (hash of the long form) are
                    // checked against the attached document by DidPeer.Resolve.
                    var verified = DidPeer.Resolve(DidResolver.DidOf(did), WithId(attached, did));
                    return (verified, verified);
                }
                case DidKind.Legacy when attached != null:
                {
                    if (!(attached.IsNamed(did) || attached.Id.Length == 0))
                        throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"did_doc~attach is the document of {DidException.Abbrev(attached.Id)}, not of {DidException.Abbrev(did)}");
                    var named = WithId(attached, did);
                    return (named, named);
                }
                default:
                    // did:web and plugged-in methods; did:peer:1 / did:sov / unqualified only if already known.
                    return (await agent.Resolver.ResolveAsync(did, ct), null);
            }
        }
        catch (DidException e) when (kind == DidKind.Legacy && attached == null && did.StartsWith("did:sov:", StringComparison.Ordinal))
        {
            throw new Rejection(DidExchangeProblems.UnsupportedDidMethod, $"did:sov is accepted only with did_doc~attach (this agent reads no ledger): {e.Message}");
        }
        catch (DidException e)
        {
            throw new Rejection(DidExchangeProblems.InvalidDidDoc, e.Message);
        }
        catch (HttpRequestException e)
        {
            throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"{DidException.Abbrev(did)} could not be resolved: {e.Message}");
        }
    }

    private static DidDocument WithId(DidDocument doc, string did)
    {
        if (doc.Id.Length > 0) return doc;
        var json = (JsonObject)doc.Json.DeepClone();
        json["id"] = DidResolver.DidOf(did);
        return DidDocument.FromJson(json);
    }

    /// <summary>
    /// RFC 0023 §"Request processing": "The responder should check the information presented with the keys used in
    /// the wire-level message transmission to ensure they match." An authcrypted message must come from a key of the
    /// document (an anoncrypted one cannot be checked).
    /// </summary>
    private static void CheckEnvelopeKey(DidDocument doc, ServiceRecord service, string? senderVerkey, string did)
    {
        if (senderVerkey == null) return;
        if (service.RecipientKeys.Contains(senderVerkey)) return;
        if (doc.VerificationMethods.Any(v => v.Codec == KeyCodec.Ed25519Pub && v.Verkey == senderVerkey)) return;
        throw new Rejection(DidExchangeProblems.InvalidDidDoc,
            $"the message was packed by key {senderVerkey}, which is not a key of {DidException.Abbrev(did)}");
    }

    // ---------------------------------------------------------------- services

    /// <summary>
    /// The first usable DIDComm v1 service of <paramref name="doc"/> by RFC 0067 priority. Without any DIDComm
    /// service, a peer that asked for return-route (RFC 0092) on an open session is answered there: an edge agent with
    /// a did:key DID has nothing else.
    /// </summary>
    public static async Task<ChosenService> SelectServiceAsync(ReferenceAgent agent, DidDocument doc, string? senderVerkey, bool returnRoute,
        CancellationToken ct, string? serviceId = null)
    {
        var candidates = new List<(int Priority, int Order, JsonObject Service)>();
        var order = 0;
        foreach (var node in Items(doc.Json, "service"))
        {
            order++;
            if (node is not JsonObject s) throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"service {order} of {DidException.Abbrev(doc.Id)} is not an object");
            if (TypeOf(s) is null) continue;
            if (serviceId != null && !SameServiceId(Str(s["id"]), serviceId, doc.Id)) continue;
            candidates.Add((PriorityOf(s), order, s));
        }
        if (candidates.Count == 0)
        {
            if (serviceId != null)
                throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"{DidException.Abbrev(doc.Id)} has no DIDComm service {DidException.Abbrev(serviceId)}");
            if (returnRoute && senderVerkey != null && doc.VerificationMethods.Any(v => v.Verkey == senderVerkey))
                return new ChosenService(null, new ServiceRecord { RecipientKeys = [senderVerkey], Endpoint = QueueEndpoint });
            throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"{DidException.Abbrev(doc.Id)} has no DIDComm service (IndyAgent, did-communication or DIDCommMessaging)");
        }

        Rejection? first = null;
        foreach (var (_, _, s) in candidates.OrderBy(c => c.Priority).ThenBy(c => c.Order))
        {
            try
            {
                var record = await ServiceAsync(agent, doc, s, ct);
                var id = Str(s["id"]);
                return new ChosenService(id == null ? null : Absolute(id, doc.Id), record);
            }
            catch (Rejection r)
            {
                first ??= r;
            }
        }
        throw first!;
    }

    /// <summary>One service entry as a <see cref="ServiceRecord"/> (base58 recipient and routing keys, endpoint URI).</summary>
    private static async Task<ServiceRecord> ServiceAsync(ReferenceAgent agent, DidDocument doc, JsonObject s, CancellationToken ct)
    {
        var type = TypeOf(s)!;
        var where = $"{type} service {DidException.Abbrev(Str(s["id"]) ?? "(no id)", 40)}";
        var (endpoint, endpointObject) = EndpointOf(s, where);
        var holder = endpointObject != null && (endpointObject.ContainsKey("accept") || endpointObject.ContainsKey("routingKeys")) ? endpointObject : s;
        var accept = Items(holder, "accept").Select(Str).OfType<string>().ToList();

        // DIDComm v1 messaging is RFC 0019 envelopes: profile "didcomm/aip1" or "didcomm/aip2;env=rfc19" (RFC 0044 /
        // 0587 names). A service that lists accept profiles without either, or a v2 service without either, is not v1.
        // A DIDCommMessaging service without accept is DIDComm v2 ("didcomm/v2" is its default).
        var v1 = accept.Count == 0
            ? type != DidCommService.DidCommMessaging
            : accept.Any(a => a == "didcomm/aip1" || a.StartsWith("didcomm/aip2;env=rfc19", StringComparison.Ordinal));
        if (!v1)
            throw new Rejection(DidExchangeProblems.UnsupportedEndpointProtocol,
                $"{where} accepts [{string.Join(", ", accept)}], none of them RFC 0019 envelopes (didcomm/aip1, didcomm/aip2;env=rfc19)");

        // Recipient keys: references into the document, did:key, or raw base58 verkeys (IndyAgent).
        var keyNodes = Items(s, "recipientKeys").ToList();
        var recipients = new List<string>();
        if (keyNodes.Count == 0 && type == DidCommService.DidCommMessaging)
            foreach (var m in doc.KeyAgreement) recipients.Add(Ed25519For(doc, m.Codec, m.PublicKey, where, m.Id));
        foreach (var k in keyNodes)
        {
            var key = Str(k) ?? throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"{where}: recipientKeys must be strings");
            recipients.Add(await RecipientKeyAsync(agent, doc, key, where, ct));
        }
        if (recipients.Count == 0) throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"{where} has no recipientKeys");

        var routing = new List<string>();
        foreach (var r in Items(holder, "routingKeys"))
        {
            var key = Str(r) ?? throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"{where}: routingKeys must be strings");
            routing.Add(await RoutingKeyAsync(agent, key, where, ct));
        }

        // RFC 0434 §"Service Endpoint": "If the endpoint is itself a DID, the serviceEndpoint in the DIDDoc of the
        // resolved DID MUST be a URI, and the recipientKeys MUST contain a single key. That key is appended to the end
        // of the list of routingKeys for processing."
        if (endpoint.StartsWith("did:", StringComparison.Ordinal))
        {
            DidDocument mediatorDoc;
            try { mediatorDoc = await agent.Resolver.ResolveAsync(endpoint, ct); }
            catch (DidException e) { throw new Rejection(DidExchangeProblems.UnsupportedEndpointProtocol, $"{where}: endpoint {DidException.Abbrev(endpoint)} cannot be resolved: {e.Message}"); }
            var inner = mediatorDoc.Json["service"] is JsonArray arr ? arr.OfType<JsonObject>().FirstOrDefault(x => TypeOf(x) != null) : null;
            if (inner == null) throw new Rejection(DidExchangeProblems.UnsupportedEndpointProtocol, $"{where}: endpoint {DidException.Abbrev(endpoint)} has no DIDComm service");
            var innerRecord = await ServiceAsync(agent, mediatorDoc, inner, ct);
            if (innerRecord.Endpoint.StartsWith("did:", StringComparison.Ordinal))
                throw new Rejection(DidExchangeProblems.UnsupportedEndpointProtocol, $"{where}: endpoint DID {DidException.Abbrev(endpoint)} must have a URI serviceEndpoint");
            routing.Add(innerRecord.RecipientKeys[0]);
            endpoint = innerRecord.Endpoint;
        }

        if (!IsDeliverable(endpoint))
            throw new Rejection(DidExchangeProblems.UnsupportedEndpointProtocol,
                $"{where} endpoint '{DidException.Abbrev(endpoint)}' uses a transport this agent does not speak (http, https, ws, wss, {QueueEndpoint})");
        return new ServiceRecord { RecipientKeys = recipients, RoutingKeys = routing, Endpoint = endpoint };
    }

    public static bool IsDeliverable(string endpoint) =>
        endpoint == QueueEndpoint ||
        (Uri.TryCreate(endpoint, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" or "ws" or "wss" && u.Host.Length > 0);

    private static async Task<string> RecipientKeyAsync(ReferenceAgent agent, DidDocument doc, string key, string where, CancellationToken ct)
    {
        if (DidKey.IsDidKey(key))
        {
            var (did, _) = SplitRef(key);
            if (KeyCodecOf(did["did:key:".Length..]) is { } codec and not ((ulong)KeyCodec.Ed25519Pub or (ulong)KeyCodec.X25519Pub))
                throw new Rejection(DidExchangeProblems.UnsupportedKeyType, $"{where}: recipient key {DidException.Abbrev(key)} is a multicodec 0x{codec:x} key; RFC 0019 envelopes need Ed25519");
            try
            {
                var (c, raw) = DidKey.Parse(key);
                return Ed25519For(doc, c, raw, where, key);
            }
            catch (DidException e) { throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"{where}: {e.Message}"); }
        }
        if (key.Contains('#') || key.StartsWith("did:", StringComparison.Ordinal) || !(Base58.TryDecode(key, out var bare) && bare.Length == 32))
        {
            if (doc.FindMethod(key) is { } m) return Ed25519For(doc, m.Codec, m.PublicKey, where, key);
            var fragment = SplitRef(key).Fragment;
            if (fragment != null && doc.UnsupportedMethods.Any(u => SplitRef(u).Fragment == fragment))
                throw new Rejection(DidExchangeProblems.UnsupportedKeyType, $"{where}: recipient key {DidException.Abbrev(key)} is of a key type this agent does not support (Ed25519 and X25519 only)");
            var (refDid, _) = SplitRef(key);
            if (refDid.Length > 0 && !doc.IsNamed(refDid))
            {
                try { return await agent.Resolver.ResolveVerkeyAsync(key, ct); }
                catch (DidException e) { throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"{where}: {e.Message}"); }
            }
            throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"{where}: recipient key {DidException.Abbrev(key)} is not a key of the document");
        }
        return key;   // a raw base58 Ed25519 verkey (RFC 0160 IndyAgent services)
    }

    /// <summary>
    /// An Ed25519 verkey for a recipient key. An X25519 key maps to the document's Ed25519 key it was derived from
    /// (what Credo's findMatchingEd25519Key does, after the Sovrin DID method's convention); RFC 0019 packs for
    /// Ed25519 verkeys, so an X25519 key with no such partner is an unsupported key type.
    /// </summary>
    private static string Ed25519For(DidDocument doc, KeyCodec codec, byte[] key, string where, string name)
    {
        if (codec == KeyCodec.Ed25519Pub) return Base58.Encode(key);
        foreach (var m in doc.VerificationMethods.Where(v => v.Codec == KeyCodec.Ed25519Pub))
        {
            byte[] x;
            try { x = Sodium.Ed25519PublicToX25519(m.PublicKey); }
            catch (CryptoException) { continue; }
            if (x.AsSpan().SequenceEqual(key)) return m.Verkey;
        }
        throw new Rejection(DidExchangeProblems.UnsupportedKeyType,
            $"{where}: recipient key {DidException.Abbrev(name)} is X25519 and the document has no Ed25519 key it derives from; RFC 0019 envelopes need Ed25519");
    }

    private static async Task<string> RoutingKeyAsync(ReferenceAgent agent, string key, string where, CancellationToken ct)
    {
        try
        {
            if (DidKey.IsDidKey(key)) return DidKey.ToVerkey(key);
            if (key.StartsWith("did:", StringComparison.Ordinal)) return await agent.Resolver.ResolveVerkeyAsync(key, ct);
            if (Base58.TryDecode(key, out var raw) && raw.Length == 32) return key;
        }
        catch (DidException e) { throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"{where}: routing key {DidException.Abbrev(key)}: {e.Message}"); }
        throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"{where}: routing key '{DidException.Abbrev(key)}' is neither a did:key, a DID URL nor a base58 verkey");
    }

    // ---------------------------------------------------------------- small JSON helpers

    internal static string? TypeOf(JsonObject s)
    {
        IEnumerable<JsonNode?> types = s["type"] is JsonArray a ? a : new[] { s["type"] };
        return types.Select(Str).FirstOrDefault(t => t is DidCommService.IndyAgent or DidCommService.DidCommunication or DidCommService.DidCommMessaging);
    }

    private static int PriorityOf(JsonObject s) => s["priority"] switch
    {
        JsonValue v when v.TryGetValue<int>(out var n) => n,
        JsonValue v when v.TryGetValue<string>(out var t) && int.TryParse(t, out var n) => n,
        _ => 0,   // RFC 0067: "the default value of 0"
    };

    private static (string Uri, JsonObject? Object) EndpointOf(JsonObject s, string where)
    {
        var ep = s["serviceEndpoint"];
        if (ep is JsonArray arr) ep = arr.FirstOrDefault();
        if (Str(ep) is { Length: > 0 } uri) return (uri, null);
        if (ep is JsonObject o && Str(o["uri"]) is { Length: > 0 } u) return (u, o);
        throw new Rejection(DidExchangeProblems.InvalidDidDoc, $"{where} has no serviceEndpoint URI");
    }

    // (Arrays, not collection expressions: those would become JsonArrays and re-parent the node.)
    internal static IEnumerable<JsonNode?> Items(JsonObject o, string name) => o[name] switch
    {
        null => Array.Empty<JsonNode?>(),
        JsonArray a => a,
        var single => new[] { single },
    };

    internal static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static (string Did, string? Fragment) SplitRef(string reference)
    {
        var hash = reference.IndexOf('#');
        return hash < 0 ? (reference, null) : (reference[..hash], reference[(hash + 1)..]);
    }

    private static string Absolute(string id, string docId) => id.StartsWith('#') && docId.Length > 0 ? docId + id : id;

    private static bool SameServiceId(string? id, string wanted, string docId)
    {
        if (id == null) return false;
        if (id == wanted || Absolute(id, docId) == wanted) return true;
        var (_, f1) = SplitRef(id);
        var (d2, f2) = SplitRef(wanted);
        return f1 != null && f1 == f2 && (d2.Length == 0 || d2 == docId);
    }

    /// <summary>The multicodec of a multibase key, or null if it does not decode.</summary>
    private static ulong? KeyCodecOf(string multibase)
    {
        try
        {
            var raw = Multibase.Decode(multibase);
            return Varint.Decode(raw).Value;
        }
        catch (FormatException) { return null; }
    }
}
