{{ config(meta={'dagster': {'ref': {'name': 'dim_source_file'}}}) }}

-- Contract: no file is ever missing from dim_source_file. Every file version discovered in the
-- landing directory must have an outcome row (parsed, partial, duplicate, not_a_report or
-- quarantined) written by the parse stage.

with

landed_files as (

    select * from {{ ref('stg_ogi__landed_files') }}

),

source_files as (

    select * from {{ ref('dim_source_file') }}

)

select
    landed_files.source_path,
    landed_files.source_sha256

from landed_files

left join source_files
    on
        landed_files.source_path = source_files.source_path
        and landed_files.source_sha256 = source_files.source_sha256

where source_files.source_path is null
