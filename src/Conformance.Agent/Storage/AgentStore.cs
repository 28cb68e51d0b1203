using System.Collections.Concurrent;
using System.Text.Json;
using Conformance.Agent.Core;
using Microsoft.Data.Sqlite;

namespace Conformance.Agent.Storage;

/// <summary>
/// Everything the agent remembers: connections, invitations, mediation records, its keys and queued envelopes.
/// Reads come from an in-memory cache; with a SQLite file every write goes through to disk before the call returns,
/// so a queued message is durable once the forward that carried it is acknowledged, and a restarted agent (same
/// file) is the same agent. <see cref="InMemory"/> keeps the cache only (tests, benchmarks).
/// </summary>
public sealed class AgentStore : IDisposable, IConnectionIndex
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private readonly SqliteConnection? _db;
    private readonly Lock _dbGate = new();
    private readonly ConcurrentDictionary<string, ConnectionRecord> _connections = new();
    // Connections by their current MyVerkey and ThreadId (kept current by the records' setters, see IConnectionIndex):
    // the inbound pipeline looks a connection up by key or thread on every message.
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<ConnectionRecord, byte>> _byMyVerkey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<ConnectionRecord, byte>> _byThread = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, InvitationRecord> _invitations = new();
    private readonly ConcurrentDictionary<string, MediationRecord> _mediations = new();
    private readonly ConcurrentDictionary<string, byte[]> _keySeeds = new();
    private readonly Dictionary<string, List<QueuedMessage>> _queues = new();
    private readonly Lock _queueGate = new();
    private long _sequence;

    private AgentStore(SqliteConnection? db)
    {
        _db = db;
        if (db != null) Load();
    }

    public static AgentStore InMemory() => new(null);

    public static AgentStore OpenSqlite(string path)
    {
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        db.Open();
        Exec(db, """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (kind, id));
            CREATE TABLE IF NOT EXISTS keys (verkey TEXT PRIMARY KEY, seed BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL,
                recipient_key TEXT NOT NULL, envelope BLOB NOT NULL, received_at TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS queue_by_key ON queue (recipient_key, seq);
            """);
        return new AgentStore(db);
    }

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

    private IEnumerable<ConnectionRecord> Candidates(ConcurrentDictionary<string, ConcurrentDictionary<ConnectionRecord, byte>> index, string key) =>
        index.TryGetValue(key, out var set) ? set.Keys.Where(c => ReferenceEquals(_connections.GetValueOrDefault(c.Id), c)) : [];

    public void Delete(ConnectionRecord c)
    {
        if (_connections.TryRemove(new KeyValuePair<string, ConnectionRecord>(c.Id, c))) Unindex(c);
        else _connections.TryRemove(c.Id, out _);
        if (_db != null) lock (_dbGate) Exec(_db, "DELETE FROM records WHERE kind='connection' AND id=$id", ("$id", c.Id));
    }

    private void Index(ConnectionRecord c)
    {
        c.Index = this;
        Add(_byMyVerkey, c.MyVerkey, c);
        Add(_byThread, c.ThreadId, c);
    }

    private void Unindex(ConnectionRecord c)
    {
        if (ReferenceEquals(c.Index, this)) c.Index = null;
        Remove(_byMyVerkey, c.MyVerkey, c);
        Remove(_byThread, c.ThreadId, c);
    }

    void IConnectionIndex.Moved(ConnectionRecord record, IndexedField field, string? from, string? to)
    {
        var index = field == IndexedField.MyVerkey ? _byMyVerkey : _byThread;
        Remove(index, from, record);
        Add(index, to, record);
    }

    private static void Add(ConcurrentDictionary<string, ConcurrentDictionary<ConnectionRecord, byte>> index, string? key, ConnectionRecord c)
    {
        if (key != null) index.GetOrAdd(key, _ => new ConcurrentDictionary<ConnectionRecord, byte>(ReferenceEqualityComparer.Instance))[c] = 0;
    }

    private static void Remove(ConcurrentDictionary<string, ConcurrentDictionary<ConnectionRecord, byte>> index, string? key, ConnectionRecord c)
    {
        if (key != null && index.TryGetValue(key, out var set)) set.TryRemove(c, out _);
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
        if (_db != null) lock (_dbGate) Exec(_db, "INSERT OR REPLACE INTO keys (verkey, seed) VALUES ($k, $s)", ("$k", verkey), ("$s", seed));
    }

    public IReadOnlyDictionary<string, byte[]> KeySeeds() => _keySeeds;

    // ------------------------------------------------------------------ queue (durable once this returns)

    public QueuedMessage Enqueue(string recipientKey, string messageId, byte[] envelope, DateTimeOffset at)
    {
        lock (_queueGate)
        {
            long seq;
            if (_db != null)
            {
                lock (_dbGate)
                {
                    using var cmd = _db.CreateCommand();
                    cmd.CommandText = "INSERT INTO queue (message_id, recipient_key, envelope, received_at) VALUES ($m, $k, $e, $t); SELECT last_insert_rowid();";
                    cmd.Parameters.AddWithValue("$m", messageId);
                    cmd.Parameters.AddWithValue("$k", recipientKey);
                    cmd.Parameters.AddWithValue("$e", envelope);
                    cmd.Parameters.AddWithValue("$t", at.ToString("O"));
                    seq = (long)cmd.ExecuteScalar()!;
                }
            }
            else seq = ++_sequence;
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
            if (_db != null && messageIds.Count > 0)
                lock (_dbGate)
                    foreach (var id in messageIds) Exec(_db, "DELETE FROM queue WHERE message_id=$m", ("$m", id));
            return removed;
        }
    }

    // ------------------------------------------------------------------ persistence

    private void Persist<T>(string kind, string id, T value)
    {
        if (_db == null) return;
        var json = JsonSerializer.Serialize(value, Json);
        lock (_dbGate) Exec(_db, "INSERT OR REPLACE INTO records (kind, id, json) VALUES ($k, $i, $j)", ("$k", kind), ("$i", id), ("$j", json));
    }

    private void Load()
    {
        using (var cmd = _db!.CreateCommand())
        {
            cmd.CommandText = "SELECT kind, id, json FROM records";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var (kind, id, json) = (r.GetString(0), r.GetString(1), r.GetString(2));
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
        }
        using (var cmd = _db.CreateCommand())
        {
            cmd.CommandText = "SELECT verkey, seed FROM keys";
            using var r = cmd.ExecuteReader();
            while (r.Read()) _keySeeds[r.GetString(0)] = (byte[])r[1];
        }
        using (var cmd = _db.CreateCommand())
        {
            cmd.CommandText = "SELECT seq, message_id, recipient_key, envelope, received_at FROM queue ORDER BY seq";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var q = new QueuedMessage(r.GetInt64(0), r.GetString(1), r.GetString(2), (byte[])r[3], DateTimeOffset.Parse(r.GetString(4), global::System.Globalization.CultureInfo.InvariantCulture));
                if (!_queues.TryGetValue(q.RecipientKey, out var list)) _queues[q.RecipientKey] = list = [];
                list.Add(q);
                _sequence = Math.Max(_sequence, q.Sequence);
            }
        }
    }

    private static void Exec(SqliteConnection db, string sql, params (string Name, object Value)[] args)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v);
        cmd.ExecuteNonQuery();
    }

    public void Dispose() => _db?.Dispose();
}
