with

source as (

    select * from {{ source('raw', 'table_cells') }}

),

renamed as (

    select

        ---------- ids
        cast(report_id as varchar) as report_id,
        cast(table_id as varchar) as table_id,
        cast(template_version as varchar) as template_version,
        cast(row_key as varchar) as row_key,
        cast(col_key as varchar) as col_key,

        ---------- strings
        cast(raw_text as varchar) as raw_text,
        cast(cell_state as varchar) as cell_state,
        cast(unit as varchar) as unit,
        cast(unit_raw as varchar) as unit_raw,
        cast(locator as varchar) as locator,
        cast(ocr_confidence as double) as ocr_confidence,

        ---------- numerics
        cast(value as double) as value,

        ---------- booleans
        cast(unit_assumed as boolean) as unit_assumed,
        cast(is_derived as boolean) as is_derived

    from source

)

select * from renamed
