//! The shape of the input: a non-generic tuple struct with exactly one field, whose type
//! names one of the runtime crate's ID bodies.

use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error, Fields, Ident, Result, Type};

/// Which ID body the type wraps, read from the field's type name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Hash,
    Snowflake,
    Seq,
    HexKey,
}

impl BodyKind {
    /// The body type's name, as users write it.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            BodyKind::Hash => "HashId",
            BodyKind::Snowflake => "Snowflake",
            BodyKind::Seq => "Seq",
            BodyKind::HexKey => "HexKey",
        }
    }

    fn from_ident(ident: &Ident) -> Option<Self> {
        Some(match ident.to_string().as_str() {
            "HashId" => BodyKind::Hash,
            "Snowflake" => BodyKind::Snowflake,
            "Seq" => BodyKind::Seq,
            "HexKey" => BodyKind::HexKey,
            _ => return None,
        })
    }
}

/// The parts of the input the expansion needs.
pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) body_ty: &'a Type,
    pub(crate) kind: BodyKind,
}

impl<'a> Input<'a> {
    pub(crate) fn from_syn(input: &'a DeriveInput) -> Result<Self> {
        let fields = match &input.data {
            Data::Struct(data) => &data.fields,
            Data::Enum(data) => {
                return Err(Error::new(
                    data.enum_token.span,
                    "`TypedId` can only be derived for a tuple struct with one field, like `struct ElementId(HashId);`",
                ));
            }
            Data::Union(data) => {
                return Err(Error::new(
                    data.union_token.span,
                    "`TypedId` can only be derived for a tuple struct with one field, like `struct ElementId(HashId);`",
                ));
            }
        };
        if let Some(param) = input.generics.params.first() {
            return Err(Error::new(
                param.span(),
                "`TypedId` cannot be derived for a generic type: an ID type has one fixed prefix and body",
            ));
        }
        if let Some(clause) = &input.generics.where_clause {
            return Err(Error::new(
                clause.where_token.span,
                "`TypedId` cannot be derived with a `where` clause",
            ));
        }
        let field = match fields {
            Fields::Unnamed(unnamed) if unnamed.unnamed.len() == 1 => &unnamed.unnamed[0],
            Fields::Unnamed(unnamed) if unnamed.unnamed.len() > 1 => {
                return Err(Error::new(
                    unnamed.unnamed[1].span(),
                    "`TypedId` needs exactly one field, the ID body; remove the extra fields",
                ));
            }
            Fields::Named(named) => {
                return Err(Error::new(
                    named.brace_token.span.join(),
                    "`TypedId` needs a tuple struct, like `struct ElementId(HashId);`, not named fields",
                ));
            }
            _ => {
                return Err(Error::new(
                    input.ident.span(),
                    "`TypedId` needs one field holding the ID body, like `struct ElementId(HashId);`",
                ));
            }
        };
        let kind = body_kind(&field.ty)?;
        Ok(Input {
            ident: &input.ident,
            body_ty: &field.ty,
            kind,
        })
    }
}

fn body_kind(ty: &Type) -> Result<BodyKind> {
    if let Type::Path(path) = ty
        && path.qself.is_none()
        && let Some(last) = path.path.segments.last()
        && last.arguments.is_empty()
        && let Some(kind) = BodyKind::from_ident(&last.ident)
    {
        return Ok(kind);
    }
    Err(Error::new(
        ty.span(),
        "the field must be an ID body: `HashId`, `Snowflake`, `Seq` or `HexKey` (from `typed_id`)",
    ))
}
