with

source_files as (

    select * from {{ ref('stg_ogi__source_files') }}

),

landed_files as (

    select * from {{ ref('stg_ogi__landed_files') }}

),

reports as (

    select report_id, superseded_by_report_id from {{ ref('dim_report') }}

),

final as (

    select

        ---------- contract columns
        source_files.source_path,
        source_files.source_sha256,
        source_files.bytes,
        source_files.source_format,
        source_files.ingest_status,
        source_files.reason,
        source_files.report_id,
        coalesce(
            source_files.first_seen_at, landed_files.first_seen_at
        ) as first_seen_at,

        ---------- additions
        source_files.encoding,
        source_files.parser_version,
        coalesce(landed_files.is_present, false) as is_present,
        landed_files.last_seen_at,
        -- set when a corrected republication of the same agency and year replaced this file's report
        reports.superseded_by_report_id

    from source_files

    left join landed_files
        on
            source_files.source_path = landed_files.source_path
            and source_files.source_sha256 = landed_files.source_sha256

    left join reports
        on source_files.report_id = reports.report_id

)

select * from final
