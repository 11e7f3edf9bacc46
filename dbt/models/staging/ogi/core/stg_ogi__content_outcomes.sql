-- raw.content_outcomes is written by the load step in the same transaction as raw.source_files
-- (ingest.warehouse.store_parsed); it is read through that source's relation so that lineage (and
-- the Dagster asset graph) stays source -> asset: raw/source_files.
-- depends_on: {{ source('raw', 'source_files') }}

with

source as (

    select * from {{ source('raw', 'source_files').incorporate(path={'identifier': 'content_outcomes'}) }}

),

renamed as (

    select

        ---------- ids
        cast(source_sha256 as varchar) as source_sha256,
        cast(report_id as varchar) as report_id,

        ---------- strings
        cast(parser_version as varchar) as parser_version,
        cast(ingest_status as varchar) as ingest_status,
        cast(reason as varchar) as reason,
        cast(encoding as varchar) as encoding,

        ---------- timestamps
        cast(parsed_at as timestamptz) as parsed_at

    from source

)

select * from renamed
