//! Identity use cases: register, log in, rotate refresh tokens, log out, who am
//! I, the organization's own settings (name, time zone), members and API keys,
//! and turning credentials into an [`Actor`].
//!
//! [`Actor`]: domain::identity::Actor

mod api_keys;
mod authenticate;
mod members;
mod organization;
mod session;
mod sessions;

pub use api_keys::{CreateApiKey, CreatedApiKey, ListApiKeys, NewApiKeyInput, RevokeApiKey};
pub use authenticate::{AuthenticateAccessToken, AuthenticateApiKey};
pub use members::{AddMember, AddMemberInput, ChangeMemberRole, ListMembers, RemoveMember};
pub use organization::{GetOrganization, OrganizationPatchInput, UpdateOrganization};
pub use session::{Session, SessionIssuer};
pub use sessions::{
    CreateUser, CreateUserInput, GetMe, Login, LoginInput, Logout, Me, RefreshSession, Register,
    RegisterInput, Registered,
};
