using System.Collections.Concurrent;
using System.Text.Json;
using Conformance.Agent.Core;

namespace Conformance.Agent.Storage;

/// <summary>
/// Everything the agent remembers: connections, invitations, mediation records, its keys and queued envelopes.
/// Reads come from an in-memory cache; with a SQLite file every write goes through to disk before the call returns,
/// so a queued message is durable once the forward that carried it is acknowledged, and a restarted agent (same
/// file) is the same agent. <see cref="InMemory"/> keeps the cache only (tests, benchmarks).
/// Everything that touches SQLite is in <see cref="SqliteFile"/> (AgentStore.Sqlite.cs), so an in-memory agent never
/// loads the SQLite assemblies.
/// </summary>
public sealed partial class AgentStore : IDisposable, IConnectionIndex
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private readonly SqliteFile? _db;
    private readonly ConcurrentDictionary<string, ConnectionRecord> _connections = new();
    // Connections by their current MyVerkey and ThreadId (kept current by the records' setters, see IConnectionIndex):
    // the inbound pipeline looks a connection up by key or thread on every message.
    // Almost every key names one connection, so a key maps to a small array, replaced (never changed) under _indexGate.
    private readonly ConcurrentDictionary<string, ConnectionRecord[]> _byMyVerkey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConnectionRecord[]> _byThread = new(StringComparer.Ordinal);
    private readonly Lock _indexGate = new();
    private readonly ConcurrentDictionary<string, InvitationRecord> _invitations = new();
    private readonly ConcurrentDictionary<string, MediationRecord> _mediations = new();
    private readonly ConcurrentDictionary<string, byte[]> _keySeeds = new();
    private readonly Dictionary<string, List<QueuedMessage>> _queues = new();
    private readonly Lock _queueGate = new();
    private long _sequence;

    private AgentStore(SqliteFile? db)
    {
        _db = db;
        if (db != null) Load(db);
    }

    public static AgentStore InMemory() => new(null);

    public static AgentStore OpenSqlite(string path) => new(SqliteFile.Open(path));

    public bool IsDurable => _db != null;

    // ------------------------------------------------------------------ connections

    public void Save(ConnectionRecord c)
    {
        var previous = _connections.GetValueOrDefault(c.Id);
        _connections[c.Id] = c;
        if (!ReferenceEquals(previous, c))
        {
            if (previous != null) Unindex(previous);
            Index(c);
        }
        Persist("connection", c.Id, c);
    }

    public ConnectionRecord? GetConnection(string id) => _connections.GetValueOrDefault(id);
    public IReadOnlyList<ConnectionRecord> Connections() => _connections.Values.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).ToList();
    /// <summary>The oldest connection matching <paramref name="predicate"/> (a scan of every connection; see the indexed finders).</summary>
    public ConnectionRecord? FindConnection(Func<ConnectionRecord, bool> predicate) => First(_connections.Values.Where(predicate));
    public IReadOnlyList<ConnectionRecord> FindConnections(Func<ConnectionRecord, bool> predicate) => _connections.Values.Where(predicate).OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).ToList();

    /// <summary>
    /// The oldest connection whose <see cref="ConnectionRecord.MyVerkey"/> is <paramref name="myVerkey"/> and that
    /// matches <paramref name="predicate"/>: the same answer as <see cref="FindConnection"/> with
    /// <c>c.MyVerkey == myVerkey &amp;&amp; predicate(c)</c>, without scanning every connection.
    /// </summary>
    public ConnectionRecord? FindConnectionByMyVerkey(string myVerkey, Func<ConnectionRecord, bool>? predicate = null) =>
        First(Candidates(_byMyVerkey, myVerkey).Where(c => c.MyVerkey == myVerkey && (predicate == null || predicate(c))));

    /// <summary>
    /// The oldest connection whose <see cref="ConnectionRecord.ThreadId"/> is <paramref name="threadId"/> and that
    /// matches <paramref name="predicate"/>: the same answer as <see cref="FindConnection"/> with
    /// <c>c.ThreadId == threadId &amp;&amp; predicate(c)</c>, without scanning every connection.
    /// </summary>
    public ConnectionRecord? FindConnectionByThread(string threadId, Func<ConnectionRecord, bool>? predicate = null) =>
        First(Candidates(_byThread, threadId).Where(c => c.ThreadId == threadId && (predicate == null || predicate(c))));

    private static ConnectionRecord? First(IEnumerable<ConnectionRecord> matches) =>
        matches.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id, StringComparer.Ordinal).FirstOrDefault();

    private IEnumerable<ConnectionRecord> Candidates(ConcurrentDictionary<string, ConnectionRecord[]> index, string key) =>
        index.TryGetValue(key, out var records) ? records.Where(c => ReferenceEquals(_connections.GetValueOrDefault(c.Id), c)) : [];

    public void Delete(ConnectionRecord c)
    {
        if (_connections.TryRemove(new KeyValuePair<string, ConnectionRecord>(c.Id, c))) Unindex(c);
        else _connections.TryRemove(c.Id, out _);
        _db?.DeleteRecord("connection", c.Id);
    }

    private void Index(ConnectionRecord c)
    {
        lock (_indexGate)
        {
            c.Index = this;
            Add(_byMyVerkey, c.MyVerkey, c);
            Add(_byThread, c.ThreadId, c);
        }
    }

    private void Unindex(ConnectionRecord c)
    {
        lock (_indexGate)
        {
            if (ReferenceEquals(c.Index, this)) c.Index = null;
            Remove(_byMyVerkey, c.MyVerkey, c);
            Remove(_byThread, c.ThreadId, c);
        }
    }

    void IConnectionIndex.Moved(ConnectionRecord record, IndexedField field, string? from, string? to)
    {
        var index = field == IndexedField.MyVerkey ? _byMyVerkey : _byThread;
        lock (_indexGate)
        {
            Remove(index, from, record);
            Add(index, to, record);
        }
    }

    private static void Add(ConcurrentDictionary<string, ConnectionRecord[]> index, string? key, ConnectionRecord c)
    {
        if (key == null) return;
        var now = index.GetValueOrDefault(key) ?? [];
        if (Array.IndexOf(now, c) < 0) index[key] = [.. now, c];
    }

    private static void Remove(ConcurrentDictionary<string, ConnectionRecord[]> index, string? key, ConnectionRecord c)
    {
        if (key == null || !index.TryGetValue(key, out var now) || Array.IndexOf(now, c) < 0) return;
        if (now.Length == 1) index.TryRemove(key, out _);
        else index[key] = now.Where(x => !ReferenceEquals(x, c)).ToArray();
    }

    // ------------------------------------------------------------------ invitations

    public void Save(InvitationRecord i) { _invitations[i.Id] = i; Persist("invitation", i.Id, i); }
    public InvitationRecord? GetInvitation(string id) => _invitations.GetValueOrDefault(id);
    public InvitationRecord? FindInvitation(Func<InvitationRecord, bool> predicate) => _invitations.Values.Where(predicate).OrderBy(i => i.CreatedAt).FirstOrDefault();
    public IReadOnlyList<InvitationRecord> Invitations() => _invitations.Values.OrderBy(i => i.CreatedAt).ToList();

    // ------------------------------------------------------------------ mediation

    public void Save(MediationRecord m) { _mediations[m.ConnectionId] = m; Persist("mediation", m.ConnectionId, m); }
    public MediationRecord? GetMediation(string connectionId) => _mediations.GetValueOrDefault(connectionId);
    public IReadOnlyList<MediationRecord> Mediations() => _mediations.Values.ToList();

    // ------------------------------------------------------------------ keys

    public void SaveKeySeed(string verkey, byte[] seed)
    {
        _keySeeds[verkey] = seed;
        _db?.SaveKey(verkey, seed);
    }

    public IReadOnlyDictionary<string, byte[]> KeySeeds() => _keySeeds;

    // ------------------------------------------------------------------ queue (durable once this returns)

    public QueuedMessage Enqueue(string recipientKey, string messageId, byte[] envelope, DateTimeOffset at)
    {
        lock (_queueGate)
        {
            var seq = _db?.Enqueue(recipientKey, messageId, envelope, at) ?? ++_sequence;
            var q = new QueuedMessage(seq, messageId, recipientKey, envelope, at);
            if (!_queues.TryGetValue(recipientKey, out var list)) _queues[recipientKey] = list = [];
            list.Add(q);
            return q;
        }
    }

    public IReadOnlyList<QueuedMessage> Peek(IEnumerable<string> recipientKeys, int limit)
    {
        lock (_queueGate)
            return recipientKeys.SelectMany(k => _queues.GetValueOrDefault(k) ?? []).OrderBy(q => q.Sequence).Take(limit).ToList();
    }

    public int QueueCount(IEnumerable<string> recipientKeys)
    {
        lock (_queueGate) return recipientKeys.Sum(k => _queues.GetValueOrDefault(k)?.Count ?? 0);
    }

    /// <summary>Removes delivered messages by message id; returns how many were removed.</summary>
    public int Remove(IEnumerable<string> recipientKeys, IReadOnlyCollection<string> messageIds)
    {
        lock (_queueGate)
        {
            int removed = 0;
            foreach (var k in recipientKeys)
                if (_queues.TryGetValue(k, out var list)) removed += list.RemoveAll(q => messageIds.Contains(q.MessageId));
            if (messageIds.Count > 0) _db?.DeleteQueued(messageIds);
            return removed;
        }
    }

    // ------------------------------------------------------------------ persistence

    private void Persist<T>(string kind, string id, T value)
    {
        if (_db == null) return;
        _db.SaveRecord(kind, id, JsonSerializer.Serialize(value, Json));
    }

    private void Load(SqliteFile db)
    {
        foreach (var (kind, id, json) in db.Records())
        {
            switch (kind)
            {
                case "connection":
                    var c = JsonSerializer.Deserialize<ConnectionRecord>(json, Json)!;
                    _connections[id] = c;
                    Index(c);
                    break;
                case "invitation": _invitations[id] = JsonSerializer.Deserialize<InvitationRecord>(json, Json)!; break;
                case "mediation": _mediations[id] = JsonSerializer.Deserialize<MediationRecord>(json, Json)!; break;
            }
        }
        foreach (var (verkey, seed) in db.Keys()) _keySeeds[verkey] = seed;
        foreach (var q in db.Queue())
        {
            if (!_queues.TryGetValue(q.RecipientKey, out var list)) _queues[q.RecipientKey] = list = [];
            list.Add(q);
            _sequence = Math.Max(_sequence, q.Sequence);
        }
    }

    public void Dispose() => _db?.Dispose();
}
