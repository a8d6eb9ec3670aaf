//! `wxmass tags list|create|rename|delete`.

use anyhow::Result;
use serde_json::json;

use crate::cli::TagsCommand;
use crate::config::Settings;

pub async fn run(settings: &Settings, command: &TagsCommand, json: bool) -> Result<()> {
    let client = settings.client()?;
    let tags = client.tags();
    match command {
        TagsCommand::List => {
            let list = tags.list().await?;
            let value = json!(
                list.iter()
                    .map(|t| json!({"id": t.id, "name": t.name, "count": t.count}))
                    .collect::<Vec<_>>()
            );
            super::print(json, &value, || {
                let mut out = format!("{:>6}  {:>10}  NAME", "ID", "FOLLOWERS");
                for t in &list {
                    out.push_str(&format!("\n{:>6}  {:>10}  {}", t.id, t.count, t.name));
                }
                out
            });
        }
        TagsCommand::Create { name } => {
            let tag = tags.create(name).await?;
            super::print(json, &json!({"id": tag.id, "name": tag.name}), || {
                format!("created tag {} {:?}", tag.id, tag.name)
            });
        }
        TagsCommand::Rename { id, name } => {
            tags.rename(*id, name).await?;
            super::print(json, &json!({"id": id, "name": name}), || {
                format!("renamed tag {id} to {name:?}")
            });
        }
        TagsCommand::Delete { id, yes } => {
            super::confirm(
                &format!("Delete tag {id}? Its followers keep following, untagged."),
                &format!("refusing to delete tag {id}"),
                *yes,
            )?;
            tags.delete(*id).await?;
            super::print(json, &json!({"id": id, "deleted": true}), || {
                format!("deleted tag {id}")
            });
        }
    }
    Ok(())
}
