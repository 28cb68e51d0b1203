// In-memory StorageService for Credo 0.6.3: the replacement for the Askar wallet's record storage (Askar cannot be
// installed on this machine: its package downloads a native library from outside the npm registry at install time).
//
// This is storage only — it decides nothing about any protocol. It implements Credo's StorageService interface
// (@credo-ts/core storage/StorageService.d.mts): save, update, delete, deleteById, getById, getAll, findByQuery, with
// the tag query language Credo's repositories use: equality, array containment, $and, $or, $not. Records are
// stored as JSON (JsonTransformer.toJSON) and rebuilt with JsonTransformer.fromJSON, so callers never share objects.
//
// Tag values are compared the way Askar stores them: booleans as "1"/"0", arrays as one "key:value" tag per item
// (so a query array matches when every item is present), undefined tags are not stored, and a query value of
// undefined places no constraint.
//
// Credo refuses to initialize when a context has no StorageVersionRecord at the current framework version (it would
// assume an old wallet that needs migrating), so the first use of a context writes one, exactly as a freshly created
// Askar wallet would after Credo's own initialisation.
import {
  JsonTransformer,
  RecordDuplicateError,
  RecordNotFoundError,
  StorageVersionRecord,
  UpdateAssistant,
  injectable,
} from '@credo-ts/core'

export class InMemoryStorageService {
  supportsCursorPagination = false

  /** contextCorrelationId → Map(id → {id, type, value, tags}) */
  #contexts = new Map()

  #records(agentContext) {
    const key = agentContext?.contextCorrelationId ?? 'default'
    let records = this.#contexts.get(key)
    if (!records) {
      records = new Map()
      this.#contexts.set(key, records)
      const version = new StorageVersionRecord({ storageVersion: UpdateAssistant.frameworkStorageVersion })
      version.updatedAt = new Date()
      records.set(version.id, toStored(version))
    }
    return records
  }

  async save(agentContext, record) {
    const records = this.#records(agentContext)
    if (records.has(record.id)) {
      throw new RecordDuplicateError(`Record with id ${record.id} already exists`, { recordType: record.type })
    }
    record.updatedAt = new Date()
    records.set(record.id, toStored(record))
  }

  async update(agentContext, record) {
    const records = this.#records(agentContext)
    const existing = records.get(record.id)
    if (!existing || existing.type !== record.type) {
      throw new RecordNotFoundError(`record with id ${record.id} not found.`, { recordType: record.type })
    }
    record.updatedAt = new Date()
    records.set(record.id, toStored(record))
  }

  async delete(agentContext, record) {
    await this.deleteById(agentContext, { type: record.type }, record.id)
  }

  async deleteById(agentContext, recordClass, id) {
    const records = this.#records(agentContext)
    const existing = records.get(id)
    if (!existing || existing.type !== recordClass.type) {
      throw new RecordNotFoundError(`record with id ${id} not found.`, { recordType: recordClass.type })
    }
    records.delete(id)
  }

  async getById(agentContext, recordClass, id) {
    const stored = this.#records(agentContext).get(id)
    if (!stored || stored.type !== recordClass.type) {
      throw new RecordNotFoundError(`record with id ${id} not found.`, { recordType: recordClass.type })
    }
    return toInstance(stored, recordClass)
  }

  async getAll(agentContext, recordClass) {
    return [...this.#records(agentContext).values()]
      .filter((r) => r.type === recordClass.type)
      .map((r) => toInstance(r, recordClass))
  }

  async findByQuery(agentContext, recordClass, query, queryOptions) {
    let found = [...this.#records(agentContext).values()].filter(
      (r) => r.type === recordClass.type && matches(r.tags, query ?? {})
    )
    const offset = queryOptions?.offset ?? 0
    const limit = queryOptions?.limit
    found = found.slice(offset, limit === undefined ? undefined : offset + limit)
    return found.map((r) => toInstance(r, recordClass))
  }
}

injectable()(InMemoryStorageService)

function toStored(record) {
  return {
    id: record.id,
    type: record.type,
    value: JSON.parse(JSON.stringify(JsonTransformer.toJSON(record))),
    rawTags: JSON.parse(JSON.stringify(record.getTags())),
    tags: normaliseTags(record.getTags()),
  }
}

function toInstance(stored, recordClass) {
  const instance = JsonTransformer.fromJSON(JSON.parse(JSON.stringify(stored.value)), recordClass)
  instance.id = stored.id
  instance.replaceTags(JSON.parse(JSON.stringify(stored.rawTags)))
  return instance
}

// ------------------------------------------------------------------ tags

/** Tags as Askar keeps them: string values; arrays as a Set of strings; undefined and null dropped. */
function normaliseTags(tags) {
  const out = {}
  for (const [key, value] of Object.entries(tags ?? {})) {
    if (value === undefined || value === null) continue
    out[key] = Array.isArray(value) ? new Set(value.map(tagString)) : tagString(value)
  }
  return out
}

function tagString(value) {
  if (value === true) return '1'
  if (value === false) return '0'
  return String(value)
}

function matches(tags, query) {
  for (const [key, value] of Object.entries(query)) {
    if (key === '$and') {
      if (!(value ?? []).every((q) => matches(tags, q))) return false
    } else if (key === '$or') {
      if (value && value.length > 0 && !value.some((q) => matches(tags, q))) return false
    } else if (key === '$not') {
      if (value && matches(tags, value)) return false
    } else if (value === undefined) {
      continue
    } else if (value === null) {
      if (tags[key] !== undefined) return false
    } else if (Array.isArray(value)) {
      const have = tags[key]
      if (!(have instanceof Set) || !value.every((v) => have.has(tagString(v)))) return false
    } else if (tags[key] !== tagString(value)) {
      return false
    }
  }
  return true
}
