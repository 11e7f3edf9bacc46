-- 表二: proactive disclosure under article 20 of the regulations.
-- Grain: report_id x item x measure.
{{
    config(
        materialized='incremental',
        incremental_strategy='ogi_report_replace',
        post_hook="{{ ogi_record_report_state() }}",
    )
}}

with

reports as (

    select * from {{ ref('dim_report') }}

    -- superseded editions stay in raw.* and dim_report only
    where
        is_current
        -- incremental build: the reports whose rows are replaced (every report on a full build)
        and {{ ogi_rebuilt('report_id') }}

),

table_cells as (

    select * from {{ ref('stg_ogi__table_cells') }}

    where
        starts_with(table_id, 't2_art20_')
        and report_id in (select report_id from reports)

),

final as (

    select

        ---------- contract columns
        table_cells.report_id,
        reports.report_year,
        reports.agency_id,
        table_cells.row_key as item,
        table_cells.col_key as measure,
        -- t2_art20_1 -> 20_1
        substr(table_cells.table_id, length('t2_art') + 1) as article_item,
        table_cells.value,
        table_cells.unit,
        table_cells.unit_raw,
        table_cells.cell_state,
        table_cells.raw_text,
        table_cells.locator,

        ---------- additions
        table_cells.unit_assumed,
        coalesce(table_cells.is_derived, false) as is_derived,
        table_cells.table_id,
        table_cells.template_version,
        table_cells.ocr_confidence

    from table_cells

    inner join reports
        on table_cells.report_id = reports.report_id

)

select * from final
