with

source as (

    select * from {{ source('raw', 'ref_row_keys') }}

),

renamed as (

    select

        ---------- ids
        cast(table_id as varchar) as table_id,
        cast(template_version as varchar) as template_version,
        cast(row_key as varchar) as row_key,

        ---------- strings
        cast(label_zh as varchar) as label_zh,
        cast(row_group as varchar) as row_group,
        cast(outcome_category as varchar) as outcome_category,
        cast(article_item as varchar) as article_item,

        ---------- numerics
        cast(sort_order as integer) as sort_order

    from source

)

select * from renamed
