using Conformance.Agent.Core;
using Microsoft.Data.Sqlite;

namespace Conformance.Agent.Storage;

public sealed partial class AgentStore
{
    /// <summary>
    /// The SQLite file behind a durable store: one table of records (JSON by kind and id), one of key seeds, one of
    /// queued envelopes. Every write is done before the call returns (WAL, synchronous=NORMAL). Kept apart from
    /// <see cref="AgentStore"/> so that only a durable agent loads Microsoft.Data.Sqlite.
    /// </summary>
    private sealed class SqliteFile : IDisposable
    {
        private readonly SqliteConnection _db;
        private readonly Lock _gate = new();

        private SqliteFile(SqliteConnection db) => _db = db;

        public static SqliteFile Open(string path)
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
            return new SqliteFile(db);
        }

        public void SaveRecord(string kind, string id, string json)
        {
            lock (_gate) Exec(_db, "INSERT OR REPLACE INTO records (kind, id, json) VALUES ($k, $i, $j)", ("$k", kind), ("$i", id), ("$j", json));
        }

        public void DeleteRecord(string kind, string id)
        {
            lock (_gate) Exec(_db, "DELETE FROM records WHERE kind=$k AND id=$id", ("$k", kind), ("$id", id));
        }

        public void SaveKey(string verkey, byte[] seed)
        {
            lock (_gate) Exec(_db, "INSERT OR REPLACE INTO keys (verkey, seed) VALUES ($k, $s)", ("$k", verkey), ("$s", seed));
        }

        /// <summary>Appends an envelope to the queue; returns its sequence number.</summary>
        public long Enqueue(string recipientKey, string messageId, byte[] envelope, DateTimeOffset at)
        {
            lock (_gate)
            {
                using var cmd = _db.CreateCommand();
                cmd.CommandText = "INSERT INTO queue (message_id, recipient_key, envelope, received_at) VALUES ($m, $k, $e, $t); SELECT last_insert_rowid();";
                cmd.Parameters.AddWithValue("$m", messageId);
                cmd.Parameters.AddWithValue("$k", recipientKey);
                cmd.Parameters.AddWithValue("$e", envelope);
                cmd.Parameters.AddWithValue("$t", at.ToString("O"));
                return (long)cmd.ExecuteScalar()!;
            }
        }

        public void DeleteQueued(IEnumerable<string> messageIds)
        {
            lock (_gate)
                foreach (var id in messageIds) Exec(_db, "DELETE FROM queue WHERE message_id=$m", ("$m", id));
        }

        public List<(string Kind, string Id, string Json)> Records()
        {
            var result = new List<(string, string, string)>();
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT kind, id, json FROM records";
            using var r = cmd.ExecuteReader();
            while (r.Read()) result.Add((r.GetString(0), r.GetString(1), r.GetString(2)));
            return result;
        }

        public List<(string Verkey, byte[] Seed)> Keys()
        {
            var result = new List<(string, byte[])>();
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT verkey, seed FROM keys";
            using var r = cmd.ExecuteReader();
            while (r.Read()) result.Add((r.GetString(0), (byte[])r[1]));
            return result;
        }

        public List<QueuedMessage> Queue()
        {
            var result = new List<QueuedMessage>();
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT seq, message_id, recipient_key, envelope, received_at FROM queue ORDER BY seq";
            using var r = cmd.ExecuteReader();
            while (r.Read())
                result.Add(new QueuedMessage(r.GetInt64(0), r.GetString(1), r.GetString(2), (byte[])r[3],
                    DateTimeOffset.Parse(r.GetString(4), global::System.Globalization.CultureInfo.InvariantCulture)));
            return result;
        }

        private static void Exec(SqliteConnection db, string sql, params (string Name, object Value)[] args)
        {
            using var cmd = db.CreateCommand();
            cmd.CommandText = sql;
            foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v);
            cmd.ExecuteNonQuery();
        }

        public void Dispose() => _db.Dispose();
    }
}
