//! `wxmass templates list|add|delete|industry`: the account's template
//! messages, for `notify --template`.

use anyhow::Result;
use serde_json::json;

use crate::cli::TemplatesCommand;
use crate::config::Settings;

pub async fn run(settings: &Settings, command: &TemplatesCommand, json: bool) -> Result<()> {
    let client = settings.client()?;
    let templates = client.templates();
    match command {
        TemplatesCommand::List => {
            let list = templates.list().await?;
            let value = json!(
                list.iter()
                    .map(|t| json!({"template_id": t.template_id, "title": t.title,
                                    "keys": t.keys(), "content": t.content}))
                    .collect::<Vec<_>>()
            );
            super::print(json, &value, || {
                if list.is_empty() {
                    return "no templates yet: `wxmass templates add SHORT_ID --keyword NAME ...` adds one from WeChat's library".to_owned();
                }
                let mut out = format!(
                    "{:<44}  {:<16}  KEYS (--data KEY=VALUE)",
                    "TEMPLATE", "TITLE"
                );
                for t in &list {
                    out.push_str(&format!(
                        "\n{:<44}  {:<16}  {}",
                        super::clean(&t.template_id),
                        super::clean(&t.title),
                        super::clean(&t.keys().join(" "))
                    ));
                }
                out
            });
        }
        TemplatesCommand::Add { short_id, keyword } => {
            let names: Vec<&str> = keyword.iter().map(String::as_str).collect();
            let id = templates.add(short_id, &names).await?;
            super::print(json, &json!({"template_id": id}), || {
                format!("added template {id}; `wxmass templates list` shows its keys")
            });
        }
        TemplatesCommand::Delete { template_id, yes } => {
            super::confirm(
                &format!("Delete template {template_id}? Campaigns that use it will be refused."),
                &format!("refusing to delete template {template_id}"),
                *yes,
            )?;
            templates.delete(template_id).await?;
            super::print(
                json,
                &json!({"template_id": template_id, "deleted": true}),
                || format!("deleted template {template_id}"),
            );
        }
        TemplatesCommand::Industry { primary, secondary } => match (primary, secondary) {
            (Some(p), Some(s)) => {
                templates.set_industry(*p, *s).await?;
                super::print(json, &json!({"primary": p, "secondary": s}), || {
                    format!("industries set to {p} and {s}")
                });
            }
            _ => {
                let i = templates.industry().await?;
                super::print(json, &json!(i), || {
                    format!(
                        "primary: {} {}\nsecondary: {} {}",
                        super::clean(&i.primary_industry.first_class),
                        super::clean(&i.primary_industry.second_class),
                        super::clean(&i.secondary_industry.first_class),
                        super::clean(&i.secondary_industry.second_class)
                    )
                });
            }
        },
    }
    Ok(())
}
