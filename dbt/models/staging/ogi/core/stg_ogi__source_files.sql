with

source as (

    select * from {{ source('raw', 'source_files') }}

),

renamed as (

    select

        ---------- ids
        cast(source_path as varchar) as source_path,
        cast(source_sha256 as varchar) as source_sha256,
        cast(report_id as varchar) as report_id,

        ---------- strings
        cast(source_format as varchar) as source_format,
        cast(ingest_status as varchar) as ingest_status,
        cast(reason as varchar) as reason,
        cast(encoding as varchar) as encoding,
        cast(parser_version as varchar) as parser_version,

        ---------- numerics
        cast(bytes as bigint) as bytes,

        ---------- timestamps
        cast(first_seen_at as timestamptz) as first_seen_at

    from source

)

select * from renamed
