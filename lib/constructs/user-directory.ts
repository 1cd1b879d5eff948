import { Duration, RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import type { StageConfig } from '../config.ts';

/**
 * The Cognito group whose members may change configurations (the API's `admin` routes); its name
 * reaches the API function as ADMIN_GROUP and the router reads it from the `cognito:groups` claim.
 */
export const ADMIN_GROUP = 'admins';

export interface UserDirectoryProps {
  auth: StageConfig['auth'];
  /** Keep the pool (and its users) from deletion. */
  protect: boolean;
}

/**
 * Who may call the API: a Cognito user pool created here (admin-created users, optionally signing in
 * through a federated OpenID Connect issuer), or an existing pool. API Gateway's Cognito authorizer
 * checks the ID token of either.
 */
export class UserDirectory extends Construct {
  readonly userPool: cognito.IUserPool;
  /** The app client the frontend signs in with, when known. */
  readonly userPoolClientId: string | undefined;

  constructor(scope: Construct, id: string, props: UserDirectoryProps) {
    super(scope, id);
    const { auth } = props;
    if (auth.mode === 'existing-user-pool') {
      this.userPool = cognito.UserPool.fromUserPoolId(this, 'UserPool', auth.userPoolId);
      this.userPoolClientId = auth.userPoolClientId;
      return;
    }

    const pool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: auth.mfa === 'required' ? cognito.Mfa.REQUIRED : cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      // Plus: compromised-credential checks and adaptive authentication, enforced.
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: props.protect,
      removalPolicy: props.protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    if (auth.mfa !== 'required') {
      Validations.of(pool).acknowledge({
        id: 'AwsSolutions-COG2',
        reason:
          'Not a production stage: MFA (TOTP) is optional there, required on every production stage (the config refuses optional). Users are admin-created only and threat protection is enforced.',
      });
    }

    let oidcProvider: cognito.UserPoolIdentityProviderOidc | undefined;
    if (auth.oidc) {
      oidcProvider = new cognito.UserPoolIdentityProviderOidc(this, 'Oidc', {
        userPool: pool,
        name: auth.oidc.name,
        issuerUrl: auth.oidc.issuerUrl,
        clientId: auth.oidc.clientId,
        // A dynamic reference: CloudFormation resolves it at deploy time; the template holds no secret.
        clientSecret: SecretValue.secretsManager(auth.oidc.clientSecretName).unsafeUnwrap(),
        scopes: ['openid', 'email', 'profile'],
        attributeMapping: { email: cognito.ProviderAttribute.other('email') },
      });
      pool.addDomain('Domain', { cognitoDomain: { domainPrefix: auth.oidc.domainPrefix } });
    }

    const client = pool.addClient('WebClient', {
      generateSecret: false,
      // SRP for the browser; admin password auth lets an operator with IAM rights get a token for smoke tests.
      authFlows: { userSrp: true, adminUserPassword: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(7),
      ...(auth.oidc && oidcProvider
        ? {
            supportedIdentityProviders: [
              cognito.UserPoolClientIdentityProvider.COGNITO,
              cognito.UserPoolClientIdentityProvider.custom(oidcProvider.providerName),
            ],
            oAuth: {
              flows: { authorizationCodeGrant: true },
              scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
              callbackUrls: auth.oidc.callbackUrls,
              ...(auth.oidc.logoutUrls.length > 0 ? { logoutUrls: auth.oidc.logoutUrls } : {}),
            },
          }
        : { supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO] }),
    });

    new cognito.CfnUserPoolGroup(this, 'AdminsGroup', {
      userPoolId: pool.userPoolId,
      groupName: ADMIN_GROUP,
      description: 'May create, change, delete and activate configurations',
    });

    this.userPool = pool;
    this.userPoolClientId = client.userPoolClientId;
  }
}
